import type { Handle } from '@sveltejs/kit';
import { getEnv } from '../config/env';

/**
 * Headers every response carries. Pages get their Content-Security-Policy from Kit (see
 * `kit.csp` in svelte.config.js, which adds nonces for Kit's own scripts); other responses get
 * a policy that allows nothing.
 */
export const securityHeaders: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	const headers = response.headers;
	headers.set('X-Content-Type-Options', 'nosniff');
	// Study links may carry tokens: never send our URLs to other sites.
	headers.set('Referrer-Policy', 'same-origin');
	headers.set('X-Frame-Options', 'DENY');
	headers.set('Cross-Origin-Opener-Policy', 'same-origin');
	headers.set('Permissions-Policy', 'camera=(self), microphone=(self), geolocation=(), payment=()');
	if (!headers.has('Content-Security-Policy')) {
		headers.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
	}
	if (getEnv().secureCookies) {
		headers.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
	}
	return response;
};
