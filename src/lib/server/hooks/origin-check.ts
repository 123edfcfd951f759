import type { Handle } from '@sveltejs/kit';
import { getEnv } from '../config/env';
import { problem, problemResponse } from '../http/problem';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type OriginDecision = { ok: true } | { ok: false; error: string; message: string };

/**
 * Decides whether a state-changing request may proceed. Browsers send `Origin` on every
 * non-GET request; a missing one is accepted only with an `Authorization` header, which a
 * browser never attaches on its own (scripts with API tokens).
 */
export function decideOrigin(
	method: string,
	origin: string | null,
	hasAuthorization: boolean,
	allowed: ReadonlySet<string>
): OriginDecision {
	if (SAFE_METHODS.has(method)) return { ok: true };
	if (origin === null) {
		if (hasAuthorization) return { ok: true };
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
		event.request.headers.has('authorization'),
		getEnv().allowedOrigins
	);
	if (!decision.ok) return problemResponse(problem(403, decision.error, decision.message));
	return resolve(event);
};
