import type { Random } from './plan';

/** No 0/O, 1/I/L, 2/Z, 5/S or 8/B: a code read aloud or from a screen is typed right. */
export const INVITE_ALPHABET = 'ACDEFGHJKMNPQRTUVWXY34679';

/** 6 characters of 25 ≈ 2.4 × 10⁸ codes: short to type, collisions rare (and retried). */
export const INVITE_CODE_LENGTH = 6;

/** A new invite code; `random` defaults to the platform CSPRNG so codes cannot be guessed. */
export function generateInviteCode(random: Random = secureRandom): string {
	let code = '';
	for (let i = 0; i < INVITE_CODE_LENGTH; i++) {
		code += INVITE_ALPHABET.charAt(Math.floor(random() * INVITE_ALPHABET.length));
	}
	return code;
}

/** Upper-cases and strips spaces and dashes, so `ack-7pq` finds `ACK7PQ`; null when not a code. */
export function normalizeInviteCode(input: string): string | null {
	const code = input.toUpperCase().replace(/[\s-]/g, '');
	if (code.length !== INVITE_CODE_LENGTH) return null;
	for (const char of code) if (!INVITE_ALPHABET.includes(char)) return null;
	return code;
}

function secureRandom(): number {
	const value = new Uint32Array(1);
	crypto.getRandomValues(value);
	return (value[0] ?? 0) / 2 ** 32;
}
