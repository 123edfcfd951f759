import type { Handle } from '@sveltejs/kit';
import { describeUnstorableText, findUnstorableText } from '../../protocol/text';
import { problem, problemResponse } from '../http/problem';

export type AddressDecision =
	{ ok: true } | { ok: false; status: 400 | 404; error: string; message: string };

/**
 * Whether a request's route parameters and query can be used as they are: a path id that
 * cannot be stored names nothing (404); a query parameter that cannot be stored is a bad
 * request (400). The message says what is wrong and never repeats the text.
 */
export function checkStorableAddress(
	params: Partial<Record<string, string>>,
	query: URLSearchParams
): AddressDecision {
	for (const value of Object.values(params)) {
		if (value !== undefined && findUnstorableText(value)) {
			return { ok: false, status: 404, error: 'not_found', message: 'Not found.' };
		}
	}
	for (const [name, value] of query) {
		const problem = findUnstorableText(name) ?? findUnstorableText(value);
		if (problem) {
			const which = findUnstorableText(name) ? 'A query parameter name' : `Query parameter ${name}`;
			return {
				ok: false,
				status: 400,
				error: 'unstorable_text',
				message: `${which}: ${describeUnstorableText(problem)}`
			};
		}
	}
	return { ok: true };
}

/**
 * Refuses route parameters and query parameters that cannot be stored before any other hook,
 * route or load reads them (they would reach a database query and fail there). API and data
 * requests get the JSON problem, pages a plain sentence (returned, not thrown, so the security
 * headers still apply).
 */
export const refuseUnstorableAddress: Handle = async ({ event, resolve }) => {
	const decision = checkStorableAddress(event.params, event.url.searchParams);
	if (decision.ok) return resolve(event);
	const wantsJson =
		event.url.pathname.startsWith('/api/') ||
		event.isDataRequest ||
		(event.request.headers.get('accept') ?? '').includes('application/json');
	if (wantsJson) {
		return problemResponse(problem(decision.status, decision.error, decision.message));
	}
	return new Response(decision.message, {
		status: decision.status,
		headers: { 'content-type': 'text/plain; charset=utf-8' }
	});
};
