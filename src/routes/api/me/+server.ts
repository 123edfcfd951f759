import { authorizeApi } from '$lib/server/auth/guards';
import { problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/** The signed-in user and when the session ends. */
export const GET: RequestHandler = ({ locals }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	return Response.json({ user: auth.user, session: { expiresAt: locals.session?.expiresAt } });
};
