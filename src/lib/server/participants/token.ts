import { encodeBase64urlNoPadding } from '@oslojs/encoding';

/** 16 random bytes = 128 bits, base64url without padding: always 22 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/**
 * A new participant token (128 bits from the platform CSPRNG). It goes into the participant's
 * cookie only; the database keeps its SHA-256 (`hashSecret`), and it is never logged.
 */
export function generateParticipantToken(): string {
	const bytes = new Uint8Array(16);
	crypto.getRandomValues(bytes);
	return encodeBase64urlNoPadding(bytes);
}

/** Whether a presented value can be a participant token at all (checked before any lookup). */
export function isParticipantToken(value: unknown): value is string {
	return typeof value === 'string' && TOKEN_PATTERN.test(value);
}
