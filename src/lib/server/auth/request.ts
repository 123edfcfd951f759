import type { Cookies } from '@sveltejs/kit';
import { getDatabase } from '../db';
import type { User } from '../db/schema';
import { deleteSessionCookie, setSessionCookie } from './cookies';
import { getSessionPolicy } from './policy';
import { createSession, invalidateSession } from './sessions';

type RequestLike = {
	cookies: Cookies;
	request: Request;
	getClientAddress: () => string;
	locals: App.Locals;
};

/** Signs a user in on this request: a fresh session (never a reused one) and its cookie. */
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
