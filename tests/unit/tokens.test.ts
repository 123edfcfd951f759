import { describe, expect, test } from 'bun:test';
import {
	generateSecureRandomString,
	hashSecret,
	secretMatchesHash
} from '../../src/lib/server/auth/tokens';

describe('tokens', () => {
	test('random strings are 24 characters of the unambiguous alphabet and do not repeat', () => {
		const seen = new Set<string>();
		for (let i = 0; i < 2000; i++) {
			const value = generateSecureRandomString();
			expect(value).toMatch(/^[a-km-np-z2-9]{24}$/);
			seen.add(value);
		}
		expect(seen.size).toBe(2000);
	});

	test('only the hash is needed to check a secret', () => {
		const secret = generateSecureRandomString();
		const hash = hashSecret(secret);
		expect(hash).toMatch(/^[0-9a-f]{64}$/);
		expect(hash).not.toContain(secret);
		expect(secretMatchesHash(secret, hash)).toBe(true);
		expect(secretMatchesHash(secret + 'x', hash)).toBe(false);
		expect(secretMatchesHash(secret, 'not-hex')).toBe(false);
		expect(secretMatchesHash(secret, hash.slice(0, 10))).toBe(false);
	});
});
