import { describe, expect, test } from 'bun:test';
import { DEFAULT_AFTER_SIGN_IN, safeRedirectPath } from '../../src/lib/server/http/safe-redirect';
import { REDIRECT_BYPASSES } from '../support/redirect-bypasses';

const ORIGIN = 'https://ensemble.example.org';

/** Where a browser goes with `location` as the Location header of a page on ORIGIN. */
function browserDestination(location: string): URL {
	return new URL(location, `${ORIGIN}/login`);
}

describe('safeRedirectPath', () => {
	test('keeps local paths with their query and fragment', () => {
		expect(safeRedirectPath('/account')).toBe('/account');
		expect(safeRedirectPath('/users?x=1')).toBe('/users?x=1');
		expect(safeRedirectPath('/studies/abc/data?version=2#filters')).toBe(
			'/studies/abc/data?version=2#filters'
		);
		// Non-ASCII is sent percent-encoded: a header holds ASCII only.
		expect(safeRedirectPath('/studies/ü')).toBe('/studies/%C3%BC');
	});

	test('nothing usable falls back to the default or the given fallback', () => {
		expect(safeRedirectPath(null)).toBe(DEFAULT_AFTER_SIGN_IN);
		expect(safeRedirectPath(undefined)).toBe(DEFAULT_AFTER_SIGN_IN);
		expect(safeRedirectPath('https://evil.example', '/')).toBe('/');
		expect(safeRedirectPath(`/${'a'.repeat(3000)}`)).toBe(DEFAULT_AFTER_SIGN_IN);
	});

	test('every known bypass stays on this site', () => {
		for (const bypass of REDIRECT_BYPASSES) {
			const path = safeRedirectPath(bypass);
			const where = browserDestination(path);
			expect({ bypass, origin: where.origin }).toEqual({ bypass, origin: ORIGIN });
			// What is sent is one plain path: printable ASCII, one leading slash, no backslash.
			expect({ bypass, path: /^\/(?!\/)[\x21-\x7e]*$/.test(path) && !path.includes('\\') }).toEqual(
				{ bypass, path: true }
			);
		}
	});

	test('the dangerous shapes are refused outright, not rewritten into a path', () => {
		for (const bypass of [
			'//evil.example',
			'/\\evil.example',
			'/\t/evil.example',
			'/.//evil.example',
			'/..//evil.example',
			'javascript:alert(1)',
			'https://evil.example'
		]) {
			expect({ bypass, path: safeRedirectPath(bypass) }).toEqual({
				bypass,
				path: DEFAULT_AFTER_SIGN_IN
			});
		}
	});
});
