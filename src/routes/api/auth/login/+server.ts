import { signIn } from '$lib/server/auth/accounts';
import { getLoginThrottle } from '$lib/server/auth/login-throttle';
import { describeSignInFailure } from '$lib/server/auth/messages';
import { clientAddress, startSession } from '$lib/server/auth/request';
import { SignInInput } from '$lib/server/auth/schemas';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/** Signs in with `{ email, password }`; sets the session cookie and returns the user. */
export const POST: RequestHandler = async (event) => {
	const body = await readJsonBody(event.request, SignInInput);
	if (!body.ok) return problemResponse(body.problem);
	const result = await signIn(
		await getDatabase(),
		body.data,
		clientAddress(event),
		getLoginThrottle(),
		Date.now()
	);
	if (!result.ok) {
		const { retryAfterSeconds, ...failure } = describeSignInFailure(result);
		const headers = retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : undefined;
		return problemResponse(failure, headers);
	}
	await startSession(event, result.user);
	const { id, email, name, role } = result.user;
	return Response.json({ user: { id, email, name, role } });
};
