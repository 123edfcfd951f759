import type { Cookies } from '@sveltejs/kit';
import { getEnv } from '../config/env';

/**
 * Over https the cookie gets the `__Host-` prefix, which browsers only accept with `Secure`,
 * `Path=/` and no `Domain`: it cannot be set or shadowed by a sibling subdomain.
 */
export function sessionCookieName(secure = getEnv().secureCookies): string {
	return secure ? '__Host-ensemble_session' : 'ensemble_session';
}

/**
 * Whether a cookie name is the session cookie under either name: a leftover plain-http cookie
 * behind a proxy that now speaks https is still the browser's credential.
 */
export function isSessionCookieName(name: string): boolean {
	return name === sessionCookieName(true) || name === sessionCookieName(false);
}

export function setSessionCookie(cookies: Cookies, token: string, expiresAt: Date): void {
	const secure = getEnv().secureCookies;
	cookies.set(sessionCookieName(secure), token, {
		path: '/',
		httpOnly: true,
		sameSite: 'lax',
		secure,
		expires: expiresAt
	});
}

export function deleteSessionCookie(cookies: Cookies): void {
	const secure = getEnv().secureCookies;
	cookies.delete(sessionCookieName(secure), { path: '/', httpOnly: true, sameSite: 'lax', secure });
}
