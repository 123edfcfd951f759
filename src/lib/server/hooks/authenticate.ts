import type { Handle, RequestEvent } from '@sveltejs/kit';
import { validateApiToken } from '../auth/api-tokens';
import { deleteSessionCookie, sessionCookieName } from '../auth/cookies';
import { getSessionPolicy } from '../auth/policy';
import { validateSessionToken } from '../auth/sessions';
import { getDatabase } from '../db';

/** The bearer token of an `Authorization: Bearer …` header, or null. */
function readBearerToken(request: Request): string | null {
	const header = request.headers.get('authorization');
	const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
	return match ? match[1]! : null;
}

/**
 * API tokens authenticate JSON endpoints only: pages and form actions need a session, so a
 * token can never drive the account page (where tokens are made) or anything a browser does.
 */
function acceptsApiTokens(event: RequestEvent): boolean {
	return event.url.pathname === '/api' || event.url.pathname.startsWith('/api/');
}

/**
 * Resolves the experimenter session from its cookie into `locals.user` / `locals.session`;
 * without a valid session, an API request may authenticate with `Authorization: Bearer ens_…`
 * (`locals.user` set, `locals.session` null; a bad token sets `locals.apiTokenRejected`).
 */
export const authenticate: Handle = async ({ event, resolve }) => {
	event.locals.user = null;
	event.locals.session = null;
	event.locals.sessionExpired = false;
	event.locals.apiTokenId = null;
	event.locals.apiTokenRejected = false;
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
	const bearer = event.locals.user ? null : readBearerToken(event.request);
	if (bearer && acceptsApiTokens(event)) {
		const result = await validateApiToken(await getDatabase(), bearer, new Date());
		if (result.ok) {
			event.locals.user = result.user;
			event.locals.apiTokenId = result.tokenId;
		} else {
			event.locals.apiTokenRejected = true;
		}
	}
	return resolve(event);
};
