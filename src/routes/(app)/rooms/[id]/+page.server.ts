import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { getRealtime } from '$lib/server/realtime/runtime';
import { findRoomForDashboard } from '$lib/server/rooms/rooms';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, params }) => {
	const user = requireUser(locals, url);
	// Names for the people connected now too; the page loads again when someone new appears.
	const present = (await getRealtime()?.hub.presentActors(params.id)) ?? [];
	// A study room of a study this user cannot see is "not found", like a room that does not exist.
	const found = await findRoomForDashboard(await getDatabase(), user, params.id, present);
	if (!found) error(404, 'No such room.');
	return {
		room: { id: found.room.id, kind: found.room.kind },
		names: found.names,
		canSend: found.canEdit
	};
};
