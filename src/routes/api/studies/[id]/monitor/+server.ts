import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problemResponse } from '$lib/server/http/problem';
import { readMonitorSnapshot } from '$lib/server/monitor';
import { EventStore } from '$lib/server/realtime/event-store';
import { respondStudyFailure } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/**
 * The live monitor's picture once, for scripts: running and recently finished rooms, the
 * waiting room and the outcome counts (docs/MONITOR.md). Dashboards use the socket instead.
 */
export const GET: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const db = await getDatabase();
	const result = await readMonitorSnapshot(
		db,
		new EventStore(db),
		auth.user,
		params.id,
		new Date()
	);
	if (!result.ok) return respondStudyFailure(result);
	return Response.json(result.snapshot);
};
