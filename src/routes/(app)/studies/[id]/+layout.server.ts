import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { loadStudyForUser } from '$lib/server/studies/access';
import type { LayoutServerLoad } from './$types';

/** What every page of one study needs: its name for the tabs and the user's access. */
export const load: LayoutServerLoad = async ({ locals, url, params }) => {
	const user = requireUser(locals, url);
	const found = await loadStudyForUser(await getDatabase(), user, params.id);
	if (!found) error(404, 'No such study, or it is not shared with you.');
	return {
		studyNav: {
			id: found.study.id,
			title: found.study.title,
			access: found.access,
			dataAccess: found.dataAccess
		}
	};
};
