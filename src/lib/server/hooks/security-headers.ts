import type { Handle } from '@sveltejs/kit';
import { getEnv, type LiveKitSettings } from '../config/env';

/**
 * The origins a page's scripts must reach for LiveKit: its signalling socket (ws/wss) and the
 * HTTP endpoints livekit-client probes (http/https), from LIVEKIT_URL in either form.
 */
export function listLiveKitConnectSources(livekit: LiveKitSettings | null): string[] {
	if (!livekit) return [];
	const url = new URL(livekit.url);
	const secure = url.protocol === 'wss:' || url.protocol === 'https:';
	return [`${secure ? 'wss' : 'ws'}://${url.host}`, `${secure ? 'https' : 'http'}://${url.host}`];
}

/**
 * Adds `sources` to a policy's `connect-src` (Kit builds the page policy at build time, but
 * LIVEKIT_URL is only known at run time).
 */
export function addConnectSources(policy: string, sources: readonly string[]): string {
	if (sources.length === 0) return policy;
	const directives = policy.split(';').map((part) => part.trim());
	const index = directives.findIndex((part) => part.startsWith('connect-src'));
	if (index === -1) directives.push(`connect-src 'self' ${sources.join(' ')}`);
	else directives[index] = `${directives[index]} ${sources.join(' ')}`;
	return directives.filter((part) => part !== '').join('; ');
}

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
	const policy = headers.get('Content-Security-Policy');
	if (policy === null) {
		headers.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
	} else if (getEnv().livekit) {
		headers.set(
			'Content-Security-Policy',
			addConnectSources(policy, listLiveKitConnectSources(getEnv().livekit))
		);
	}
	if (getEnv().secureCookies) {
		headers.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
	}
	return response;
};
