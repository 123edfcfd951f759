import type { Handle } from '@sveltejs/kit';
import { carriesCredentialCookie } from './credentials';

/** JSON in any of its dresses: `application/json`, `application/problem+json`, NDJSON. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\b|^application\/x-ndjson\b/i;

/** Whether a response body is JSON, by its content type. */
export function isJsonResponse(response: Response): boolean {
	return JSON_TYPE.test(response.headers.get('content-type') ?? '');
}

/**
 * Answers to an authenticated request — a session, an API token or a participant's study
 * cookie — are someone's own data: JSON ones get `Cache-Control: no-store`, so no shared
 * proxy or browser disk keeps them. One place for every endpoint, page data (`__data.json`)
 * and form-action answer; a route that already says `no-store` keeps its header.
 */
export const preventCachingAuthenticatedJson: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	const authenticated = event.locals.user !== null || carriesCredentialCookie(event.cookies);
	if (authenticated && isJsonResponse(response)) {
		const current = response.headers.get('cache-control') ?? '';
		if (!/\bno-store\b/i.test(current)) response.headers.set('cache-control', 'no-store');
	}
	return response;
};
