import { revokeApiToken } from '$lib/server/auth/api-tokens';
import { authorizeSessionApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/** Revokes one of the caller's tokens at once. Needs a session, not a token. */
export const DELETE: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeSessionApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await revokeApiToken(await getDatabase(), auth.user.id, params.id, new Date());
	if (!result.ok) return problemResponse(problem(404, 'not_found', 'No such token.'));
	return new Response(null, { status: 204 });
};
