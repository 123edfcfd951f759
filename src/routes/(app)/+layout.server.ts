import { requireUser } from '$lib/server/auth/guards';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals, url }) => {
	const user = requireUser(locals, url);
	return { user: { name: user.name, email: user.email, role: user.role } };
};
