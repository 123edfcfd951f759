import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { findRoomForDashboard } from '$lib/server/rooms/rooms';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, params }) => {
	const user = requireUser(locals, url);
	// A study room of a study this user cannot see is "not found", like a room that does not exist.
	const found = await findRoomForDashboard(await getDatabase(), user, params.id);
	if (!found) error(404, 'No such room.');
	return {
		room: { id: found.room.id, kind: found.room.kind },
		names: found.names,
		canSend: found.canEdit
	};
};
