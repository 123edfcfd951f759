import type { Cookies } from '@sveltejs/kit';
import { isSessionCookieName } from '../auth/cookies';
import { PARTICIPANT_COOKIE_PREFIX } from '../participants/cookies';

/**
 * Whether the request carries a cookie that can authenticate it: the experimenter session or a
 * participant's study cookie. Browsers attach these on their own, also to requests another
 * site makes them send, so such a request is treated as the browser's, whatever else it holds.
 * Presence is enough (an expired cookie is still the browser's): the check runs before
 * authentication, and refusing a stale one costs nothing.
 */
export function carriesCredentialCookie(cookies: Pick<Cookies, 'getAll'>): boolean {
	return cookies
		.getAll()
		.some(({ name }) => isSessionCookieName(name) || name.startsWith(PARTICIPANT_COOKIE_PREFIX));
}
