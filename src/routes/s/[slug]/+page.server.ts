import { error } from '@sveltejs/kit';
import { getDatabase } from '$lib/server/db';
import { findPublicStudy } from '$lib/server/participants/study-link';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, setHeaders }) => {
	// Slugs are random and short; anything else cannot be a study link.
	if (!/^[a-z0-9]{4,32}$/.test(params.slug)) error(404, 'There is no study at this address.');
	const study = await findPublicStudy(await getDatabase(), params.slug);
	if (!study) error(404, 'There is no study at this address.');
	setHeaders({ 'cache-control': 'no-store' });
	return { study };
};
