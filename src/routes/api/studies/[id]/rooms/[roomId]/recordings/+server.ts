import { authorizeApi } from '$lib/server/auth/guards';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { listRoomRecordings } from '$lib/server/recordings/recordings';
import type { RequestHandler } from './$types';

/** The room's recordings with a download link where Ensemble can serve the file. */
export const GET: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await listRoomRecordings(
		await getDatabase(),
		auth.user,
		params.id,
		params.roomId,
		getEnv()
	);
	if (!result.ok) return problemResponse(problem(404, 'room_not_found', 'No such room.'));
	return Response.json({ recordings: result.recordings });
};
