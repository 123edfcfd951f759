import { redirect } from '@sveltejs/kit';
import { endSession } from '$lib/server/auth/request';
import type { Actions, PageServerLoad } from './$types';

// Signing out changes state, so it is a POST (the nav's form); a GET just goes home.
export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
	default: async (event) => {
		await endSession(event);
		redirect(303, '/login?signed-out=1');
	}
};
