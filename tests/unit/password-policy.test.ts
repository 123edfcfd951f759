import { describe, expect, test } from 'bun:test';
import { checkPasswordPolicy } from '../../src/lib/server/auth/password-policy';

describe('checkPasswordPolicy', () => {
	test('accepts 8 to 256 characters without composition rules', () => {
		expect(checkPasswordPolicy('tangerine lantern').ok).toBe(true);
		expect(checkPasswordPolicy('x'.repeat(7) + 'q').ok).toBe(true);
		expect(checkPasswordPolicy('q'.repeat(256)).ok).toBe(true);
	});

	test('rejects short and long passwords with the limit in the message', () => {
		const short = checkPasswordPolicy('abc1234');
		expect(short).toEqual({ ok: false, message: 'Use at least 8 characters.' });
		const long = checkPasswordPolicy('q'.repeat(257));
		expect(long).toEqual({ ok: false, message: 'Use at most 256 characters.' });
	});

	test('counts characters, not UTF-16 units', () => {
		// Seven emoji are 14 UTF-16 units but 7 characters.
		expect(checkPasswordPolicy('🎻🎺🥁🎹🎸🪕🎷').ok).toBe(false);
		expect(checkPasswordPolicy('🎻🎺🥁🎹🎸🪕🎷🪗').ok).toBe(true);
	});

	test('rejects common passwords whatever their case', () => {
		for (const common of ['password', '12345678', 'Password1', 'FOOTBALL', 'iloveyou']) {
			const result = checkPasswordPolicy(common);
			expect(result.ok, common).toBe(false);
			expect(!result.ok && result.message).toContain('commonly used');
		}
	});
});
