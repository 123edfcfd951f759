import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { readRoomSyncReport } from '$lib/server/sync/quality';
import type { RequestHandler } from './$types';

/**
 * The room's synchronized-video telemetry per participant and stage: sync quality (error
 * percentiles, stalls, seeks, clock) and rating counts. Researchers and admins with access to
 * the room's study; 404 alike for a missing room and one they cannot see.
 */
export const GET: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals, ['admin', 'researcher']);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await readRoomSyncReport(await getDatabase(), auth.user, params.id);
	if (!result.ok) return problemResponse(problem(404, 'room_not_found', 'No such room.'));
	return Response.json(result.report);
};
