import { authorizeApi } from '$lib/server/auth/guards';
import { listUsers } from '$lib/server/auth/users';
import { getDatabase } from '$lib/server/db';
import { problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/** All accounts (admins). */
export const GET: RequestHandler = async ({ locals }) => {
	const auth = authorizeApi(locals, ['admin']);
	if (!auth.ok) return problemResponse(auth.problem);
	return Response.json({ users: await listUsers(await getDatabase()) });
};
