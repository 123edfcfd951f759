import { error, redirect } from '@sveltejs/kit';
import type { Role } from '../db/schema';
import { problem, type Problem } from '../http/problem';
import type { SessionUser } from './sessions';

/**
 * For pages and form actions: the signed-in user, or a redirect to sign-in that returns here.
 * Call it in every load and action that needs a user; a layout guard alone does not protect
 * actions.
 */
export function requireUser(locals: App.Locals, url: URL): SessionUser {
	if (locals.user) return locals.user;
	const next = encodeURIComponent(url.pathname + url.search);
	redirect(303, `/login?next=${next}${locals.sessionExpired ? '&expired=1' : ''}`);
}

export type ApiAuthorization = { ok: true; user: SessionUser } | { ok: false; problem: Problem };

/** For JSON endpoints: 401 without a session, 403 when the role is not among `roles`. */
export function authorizeApi(locals: App.Locals, roles?: readonly Role[]): ApiAuthorization {
	const user = locals.user;
	if (!user) {
		if (locals.apiTokenRejected) {
			return {
				ok: false,
				problem: problem(401, 'invalid_token', 'The API token is invalid or has been revoked.')
			};
		}
		const message = locals.sessionExpired
			? 'Your session has expired. Sign in again.'
			: 'Sign in to use this endpoint.';
		return { ok: false, problem: problem(401, 'unauthenticated', message) };
	}
	if (roles && !roles.includes(user.role)) {
		return { ok: false, problem: problem(403, 'forbidden', 'Your role does not allow this.') };
	}
	return { ok: true, user };
}

/**
 * For JSON endpoints that only a signed-in person may use, never a script: managing API
 * tokens. A request authenticated by an API token gets 403, so a leaked token cannot mint more.
 */
export function authorizeSessionApi(locals: App.Locals): ApiAuthorization {
	const auth = authorizeApi(locals);
	if (!auth.ok) return auth;
	if (!locals.session) {
		return {
			ok: false,
			problem: problem(
				403,
				'session_required',
				'API tokens cannot manage API tokens; sign in to the dashboard to do this.'
			)
		};
	}
	return auth;
}

/** For admin pages and actions: the signed-in admin; others get a 403 page. */
export function requireAdmin(locals: App.Locals, url: URL): SessionUser {
	const user = requireUser(locals, url);
	if (user.role !== 'admin') error(403, 'Only administrators can manage users.');
	return user;
}
