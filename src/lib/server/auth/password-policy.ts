import { COMMON_PASSWORDS_TEXT } from './common-passwords';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

let commonPasswords: Set<string> | undefined;

function isCommonPassword(password: string): boolean {
	commonPasswords ??= new Set(COMMON_PASSWORDS_TEXT.split('\n'));
	return commonPasswords.has(password.toLowerCase());
}

export type PasswordCheck = { ok: true } | { ok: false; message: string };

/**
 * NIST-style password rules: 8–256 characters (counted as code points), no composition
 * rules, and not one of the shipped list of common passwords.
 */
export function checkPasswordPolicy(password: string): PasswordCheck {
	const length = [...password].length;
	if (length < PASSWORD_MIN_LENGTH) {
		return { ok: false, message: `Use at least ${PASSWORD_MIN_LENGTH} characters.` };
	}
	if (length > PASSWORD_MAX_LENGTH) {
		return { ok: false, message: `Use at most ${PASSWORD_MAX_LENGTH} characters.` };
	}
	if (isCommonPassword(password)) {
		return {
			ok: false,
			message: 'This password is on a list of commonly used passwords. Choose another.'
		};
	}
	return { ok: true };
}
