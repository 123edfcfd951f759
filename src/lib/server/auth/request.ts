import type { Cookies } from '@sveltejs/kit';
import { getDatabase } from '../db';
import type { User } from '../db/schema';
import { signIn, type SignInResult } from './accounts';
import { deleteSessionCookie, setSessionCookie } from './cookies';
import { getDeviceCookieKey, issueDeviceCookie, readTrustedDevice } from './device-cookies';
import { getLoginThrottle } from './login-throttle';
import { getSessionPolicy } from './policy';
import type { SignInInput } from './schemas';
import { createSession, invalidateSession } from './sessions';

type RequestLike = {
	cookies: Cookies;
	request: Request;
	getClientAddress: () => string;
	locals: App.Locals;
};

/**
 * Signs a user in on this request: a fresh session (never a reused one) and its cookie, and a
 * device cookie, so this browser is a trusted device for the account from now on (sign-in,
 * first-run setup, sign-up and accepting an invite all prove the password).
 */
export async function startSession(event: RequestLike, user: Pick<User, 'id'>): Promise<void> {
	const db = await getDatabase();
	const policy = getSessionPolicy();
	const now = new Date();
	const previous = event.locals.session;
	if (previous) await invalidateSession(db, previous.id);
	const { token } = await createSession(
		db,
		user.id,
		{ userAgent: event.request.headers.get('user-agent'), ipAddress: clientAddress(event) },
		policy,
		now
	);
	setSessionCookie(event.cookies, token, new Date(now.getTime() + policy.maxLifetimeMs));
	issueDeviceCookie(event.cookies, await getDeviceCookieKey(db), user.id, now.getTime());
}

/**
 * Sign-in with an email and password on this request, for the form and the JSON API alike:
 * the client's address and device cookies go to the throttle; on success the session starts.
 */
export async function signInOnRequest(
	event: RequestLike,
	input: SignInInput
): Promise<SignInResult> {
	const db = await getDatabase();
	const key = await getDeviceCookieKey(db);
	const now = Date.now();
	const result = await signIn(
		db,
		input,
		{
			address: clientAddress(event),
			trustedDeviceFor: (userId) => readTrustedDevice(event.cookies, key, userId, now)
		},
		getLoginThrottle(),
		now
	);
	if (result.ok) await startSession(event, result.user);
	return result;
}

/** Signs out: deletes the session server-side and clears the cookie. */
export async function endSession(event: RequestLike): Promise<void> {
	if (event.locals.session) await invalidateSession(await getDatabase(), event.locals.session.id);
	deleteSessionCookie(event.cookies);
	event.locals.session = null;
	event.locals.user = null;
}

/** The client's address, or `unknown` when the adapter cannot tell (it throws then). */
export function clientAddress(event: Pick<RequestLike, 'getClientAddress'>): string {
	try {
		return event.getClientAddress() || 'unknown';
	} catch {
		return 'unknown';
	}
}
