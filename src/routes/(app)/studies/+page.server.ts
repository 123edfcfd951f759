import { requireUser } from '$lib/server/auth/guards';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals, url }) => {
	const user = requireUser(locals, url);
	// Studies arrive with the study designer; until then the list is honestly empty.
	return { studies: [] as { id: string; title: string }[], canCreate: user.role !== 'viewer' };
};
