import { redirect } from '@sveltejs/kit';
import { isSetUp } from '$lib/server/auth/setup';
import { getDatabase } from '$lib/server/db';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	if (locals.user) redirect(303, '/studies');
	redirect(303, (await isSetUp(await getDatabase())) ? '/login' : '/setup');
};
