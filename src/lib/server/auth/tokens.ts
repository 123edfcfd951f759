import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { decodeHex, encodeHexLowerCase } from '@oslojs/encoding';

// Human-readable lowercase alphabet without look-alikes, as in Lucia's session guide.
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/**
 * A random string with at least 120 bits of entropy (24 chars × 5 bits), generated with the
 * platform CSPRNG. Used for ids, session secrets and invite tokens.
 */
export function generateSecureRandomString(): string {
	const bytes = new Uint8Array(24);
	crypto.getRandomValues(bytes);
	let id = '';
	for (const byte of bytes) id += ALPHABET[byte >> 3];
	return id;
}

/** SHA-256 of a secret, hex encoded, for storage. */
export function hashSecret(secret: string): string {
	return encodeHexLowerCase(sha256(new TextEncoder().encode(secret)));
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatchesHash(secret: string, storedHash: string): boolean {
	let stored: Uint8Array;
	try {
		stored = decodeHex(storedHash);
	} catch {
		return false;
	}
	return constantTimeEqual(sha256(new TextEncoder().encode(secret)), stored);
}
