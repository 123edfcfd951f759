import { describe, expect, test } from 'bun:test';
import { carriesCredentialCookie } from '../../src/lib/server/hooks/credentials';
import { isJsonResponse } from '../../src/lib/server/hooks/no-store';
import { decideOrigin } from '../../src/lib/server/hooks/origin-check';

const allowed = new Set(['https://ensemble.example.org']);
const none = { cookie: false, authorization: false };
const script = { cookie: false, authorization: true };
const browser = { cookie: true, authorization: false };

describe('decideOrigin', () => {
	test('safe methods pass whatever the origin', () => {
		for (const method of ['GET', 'HEAD', 'OPTIONS']) {
			expect(decideOrigin(method, 'https://evil.example', browser, allowed).ok).toBe(true);
		}
	});

	test('state-changing requests need an allowed origin', () => {
		expect(decideOrigin('POST', 'https://ensemble.example.org', browser, allowed).ok).toBe(true);
		const foreign = decideOrigin('POST', 'https://evil.example', browser, allowed);
		expect(foreign).toMatchObject({ ok: false, error: 'origin_forbidden' });
		expect(decideOrigin('DELETE', 'null', none, allowed).ok).toBe(false);
		// Scheme and port are part of the origin.
		expect(decideOrigin('PATCH', 'http://ensemble.example.org', none, allowed).ok).toBe(false);
		// A foreign Origin is refused even for a script.
		expect(decideOrigin('POST', 'https://evil.example', script, allowed).ok).toBe(false);
	});

	test('a missing origin passes only for a script: an Authorization header and no cookie', () => {
		for (const credentials of [none, browser, { cookie: true, authorization: true }]) {
			expect(decideOrigin('POST', null, credentials, allowed)).toMatchObject({
				ok: false,
				error: 'origin_required'
			});
		}
		expect(decideOrigin('POST', null, script, allowed).ok).toBe(true);
	});
});

describe('carriesCredentialCookie', () => {
	const jar = (...names: string[]) => ({
		getAll: () => names.map((name) => ({ name, value: 'x' }))
	});

	test('the session cookie under either name and any participant cookie count', () => {
		expect(carriesCredentialCookie(jar('ensemble_session'))).toBe(true);
		expect(carriesCredentialCookie(jar('__Host-ensemble_session'))).toBe(true);
		expect(carriesCredentialCookie(jar('theme', 'ensemble_p_abcd1234'))).toBe(true);
	});

	test('other cookies do not', () => {
		expect(carriesCredentialCookie(jar())).toBe(false);
		expect(carriesCredentialCookie(jar('theme', 'ensemble_sessionx', 'p_abcd'))).toBe(false);
	});
});

describe('isJsonResponse', () => {
	test('JSON, problem JSON and NDJSON; not HTML or CSV', () => {
		const typed = (type: string) => new Response('', { headers: { 'content-type': type } });
		expect(isJsonResponse(Response.json({}))).toBe(true);
		expect(isJsonResponse(typed('application/problem+json'))).toBe(true);
		expect(isJsonResponse(typed('application/x-ndjson; charset=utf-8'))).toBe(true);
		expect(isJsonResponse(typed('text/html'))).toBe(false);
		expect(isJsonResponse(typed('text/csv'))).toBe(false);
		expect(isJsonResponse(new Response(null))).toBe(false);
	});
});
