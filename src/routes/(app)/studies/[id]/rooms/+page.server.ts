import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { parseRoomListQuery } from '$lib/server/replay/query';
import { listStudyRooms } from '$lib/server/replay/rooms';
import type { PageServerLoad } from './$types';

/** The study's rooms, newest first (`?after=` for older ones). */
export const load: PageServerLoad = async ({ locals, url, params }) => {
	const user = requireUser(locals, url);
	const query = parseRoomListQuery(url.searchParams);
	if (!query.ok) error(400, query.problem.message);
	const result = await listStudyRooms(await getDatabase(), user, params.id, query.data);
	if (!result.ok) error(404, 'No such study, or it is not shared with you.');
	return { rooms: result.rooms, next: result.next, paged: query.data.after !== undefined };
};
