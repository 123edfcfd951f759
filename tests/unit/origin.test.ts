import { describe, expect, test } from 'bun:test';
import { decideOrigin } from '../../src/lib/server/hooks/origin-check';
import { safeNextPath } from '../../src/lib/server/auth/guards';

const allowed = new Set(['https://ensemble.example.org']);

describe('decideOrigin', () => {
	test('safe methods pass whatever the origin', () => {
		for (const method of ['GET', 'HEAD', 'OPTIONS']) {
			expect(decideOrigin(method, 'https://evil.example', false, allowed).ok).toBe(true);
		}
	});

	test('state-changing requests need an allowed origin', () => {
		expect(decideOrigin('POST', 'https://ensemble.example.org', false, allowed).ok).toBe(true);
		const foreign = decideOrigin('POST', 'https://evil.example', false, allowed);
		expect(foreign).toMatchObject({ ok: false, error: 'origin_forbidden' });
		expect(decideOrigin('DELETE', 'null', false, allowed).ok).toBe(false);
		// Scheme and port are part of the origin.
		expect(decideOrigin('PATCH', 'http://ensemble.example.org', false, allowed).ok).toBe(false);
	});

	test('a missing origin passes only with an Authorization header', () => {
		expect(decideOrigin('POST', null, false, allowed)).toMatchObject({
			ok: false,
			error: 'origin_required'
		});
		expect(decideOrigin('POST', null, true, allowed).ok).toBe(true);
	});
});

describe('safeNextPath', () => {
	test('keeps local paths and refuses other sites', () => {
		expect(safeNextPath('/account')).toBe('/account');
		expect(safeNextPath('/users?x=1')).toBe('/users?x=1');
		for (const bad of [null, '', 'https://evil.example', '//evil.example', '/\\evil.example']) {
			expect(safeNextPath(bad)).toBe('/studies');
		}
	});
});
