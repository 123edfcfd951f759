import { describeSignInFailure } from '$lib/server/auth/messages';
import { signInOnRequest } from '$lib/server/auth/request';
import { SignInInput } from '$lib/server/auth/schemas';
import { readJsonBody } from '$lib/server/http/json-body';
import { problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/**
 * Signs in with `{ email, password }`; sets the session cookie (and the device cookie) and
 * returns the user.
 */
export const POST: RequestHandler = async (event) => {
	const body = await readJsonBody(event.request, SignInInput);
	if (!body.ok) return problemResponse(body.problem);
	const result = await signInOnRequest(event, body.data);
	if (!result.ok) {
		const { retryAfterSeconds, ...failure } = describeSignInFailure(result);
		const headers = retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : undefined;
		return problemResponse(failure, headers);
	}
	const { id, email, name, role } = result.user;
	return Response.json({ user: { id, email, name, role } });
};
