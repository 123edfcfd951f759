import type { Handle } from '@sveltejs/kit';
import { getEnv } from '../config/env';
import { problem, problemResponse } from '../http/problem';
import { carriesCredentialCookie } from './credentials';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type OriginDecision = { ok: true } | { ok: false; error: string; message: string };

/** What authenticates a request, as far as the Origin decision needs to know. */
export type RequestCredentials = {
	/** A session or participant cookie: the browser attaches it on its own. */
	cookie: boolean;
	/** An `Authorization` header: only a script sets one (a browser never adds it by itself). */
	authorization: boolean;
};

/**
 * Decides whether a state-changing request may proceed. Browsers send `Origin` on every
 * non-GET request. A missing one is accepted only from a script: an `Authorization` header
 * and no cookie. When a cookie is present, the cookie may be what authenticates the request,
 * so it needs an allowed Origin whatever other header it carries.
 */
export function decideOrigin(
	method: string,
	origin: string | null,
	credentials: RequestCredentials,
	allowed: ReadonlySet<string>
): OriginDecision {
	if (SAFE_METHODS.has(method)) return { ok: true };
	if (origin === null) {
		if (credentials.authorization && !credentials.cookie) return { ok: true };
		return {
			ok: false,
			error: 'origin_required',
			message: 'Missing Origin header: state-changing requests must come from an allowed origin.'
		};
	}
	if (!allowed.has(origin)) {
		return {
			ok: false,
			error: 'origin_forbidden',
			message: `Cross-origin request refused: ${origin} is not an allowed origin.`
		};
	}
	return { ok: true };
}

/**
 * CSRF protection for every non-GET request, JSON included (SvelteKit's own check covers only
 * form content types).
 */
export const checkOrigin: Handle = async ({ event, resolve }) => {
	const decision = decideOrigin(
		event.request.method,
		event.request.headers.get('origin'),
		{
			cookie: carriesCredentialCookie(event.cookies),
			authorization: event.request.headers.has('authorization')
		},
		getEnv().allowedOrigins
	);
	if (!decision.ok) return problemResponse(problem(403, decision.error, decision.message));
	return resolve(event);
};
