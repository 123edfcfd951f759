import type { Handle } from '@sveltejs/kit';
import { deleteSessionCookie, sessionCookieName } from '../auth/cookies';
import { getSessionPolicy } from '../auth/policy';
import { validateSessionToken } from '../auth/sessions';
import { getDatabase } from '../db';

/** Resolves the experimenter session from its cookie into `locals.user` / `locals.session`. */
export const authenticate: Handle = async ({ event, resolve }) => {
	event.locals.user = null;
	event.locals.session = null;
	event.locals.sessionExpired = false;
	const token = event.cookies.get(sessionCookieName());
	if (token) {
		const result = await validateSessionToken(
			await getDatabase(),
			token,
			getSessionPolicy(),
			new Date()
		);
		if (result.ok) {
			event.locals.user = result.user;
			event.locals.session = result.session;
		} else {
			event.locals.sessionExpired = result.reason === 'expired';
			deleteSessionCookie(event.cookies);
		}
	}
	return resolve(event);
};
