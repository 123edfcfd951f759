import { authorizeApi } from '$lib/server/auth/guards';
import { UserUpdateInput } from '$lib/server/auth/schemas';
import { updateUser } from '$lib/server/auth/users';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problem, problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

const STATUS = { not_found: 404, self: 409, last_admin: 409 } as const;

/** Changes `{ role?, disabled? }` of another user (admins). Disabling ends their sessions. */
export const PATCH: RequestHandler = async ({ locals, params, request }) => {
	const auth = authorizeApi(locals, ['admin']);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, UserUpdateInput);
	if (!body.ok) return problemResponse(body.problem);
	const result = await updateUser(
		await getDatabase(),
		auth.user.id,
		params.id,
		body.data,
		new Date()
	);
	if (!result.ok)
		return problemResponse(problem(STATUS[result.reason], result.reason, result.message));
	return Response.json({ user: result.user });
};
