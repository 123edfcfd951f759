import { redirect } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { createSandboxRoom, listSandboxRooms } from '$lib/server/rooms/rooms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const user = requireUser(locals, url);
	const rooms = await listSandboxRooms(await getDatabase());
	// Studies arrive with the study designer; until then the list is honestly empty.
	return {
		studies: [] as { id: string; title: string }[],
		canCreate: user.role !== 'viewer',
		rooms: rooms.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }))
	};
};

export const actions: Actions = {
	createSandbox: async ({ locals, url }) => {
		const user = requireUser(locals, url);
		if (user.role === 'viewer') redirect(303, '/studies');
		const room = await createSandboxRoom(await getDatabase(), user.id, {
			kind: 'sandbox',
			title: `Sandbox of ${user.name}`
		});
		redirect(303, `/rooms/${room.id}`);
	}
};
