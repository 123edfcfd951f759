import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { parseRoomListQuery } from '$lib/server/replay/query';
import { listStudyRooms } from '$lib/server/replay/rooms';
import type { RequestHandler } from './$types';

/**
 * The study's rooms, newest first: status, members, outcomes, start and duration. Any access to
 * the study; `?limit=` (≤ 500) and `?after=<next>` page through long lists.
 */
export const GET: RequestHandler = async ({ locals, params, url }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const query = parseRoomListQuery(url.searchParams);
	if (!query.ok) return problemResponse(query.problem);
	const result = await listStudyRooms(await getDatabase(), auth.user, params.id, query.data);
	if (!result.ok) return problemResponse(problem(404, 'not_found', 'No such study.'));
	return Response.json({ rooms: result.rooms, next: result.next });
};
