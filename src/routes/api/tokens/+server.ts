import { createApiToken, listApiTokens, NewApiTokenInput } from '$lib/server/auth/api-tokens';
import { authorizeSessionApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/** The caller's API tokens (never their secrets). Needs a session, not a token. */
export const GET: RequestHandler = async ({ locals }) => {
	const auth = authorizeSessionApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	return Response.json({ tokens: await listApiTokens(await getDatabase(), auth.user.id) });
};

/** Creates a token `{ name }`; the answer is the only time the token is shown. */
export const POST: RequestHandler = async ({ locals, request }) => {
	const auth = authorizeSessionApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, NewApiTokenInput);
	if (!body.ok) return problemResponse(body.problem);
	const created = await createApiToken(
		await getDatabase(),
		auth.user.id,
		body.data.name,
		new Date()
	);
	return Response.json({ token: created.token, record: created.record }, { status: 201 });
};
