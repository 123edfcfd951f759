import { authorizeApi } from '$lib/server/auth/guards';
import { revokeInvite } from '$lib/server/auth/invites';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/** Withdraws a pending invite (admins). */
export const DELETE: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals, ['admin']);
	if (!auth.ok) return problemResponse(auth.problem);
	const revoked = await revokeInvite(await getDatabase(), params.id, new Date());
	if (!revoked)
		return problemResponse(problem(404, 'not_found', 'No pending invite with this id.'));
	return new Response(null, { status: 204 });
};
