import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readStudyPlots } from '$lib/server/plots/queries';
import type { PageServerLoad } from './$types';

/** The study's outcome funnel and stage durations over all its rooms. */
export const load: PageServerLoad = async ({ locals, url, params }) => {
	const user = requireUser(locals, url);
	const result = await readStudyPlots(await getDatabase(), user, params.id);
	if (!result.ok) error(404, 'No such study, or it is not shared with you.');
	return { plots: result.plots };
};
