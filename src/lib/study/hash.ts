import { sha256 } from '@oslojs/crypto/sha2';
import { encodeHexLowerCase } from '@oslojs/encoding';

/**
 * JSON with object keys sorted at every level, so the same definition always gives the same
 * text whatever order its keys were written in (an editor, an import, the database's jsonb).
 */
export function canonicalJson(value: unknown): string {
	if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
	const entries = Object.entries(value as Record<string, unknown>)
		.filter(([, item]) => item !== undefined)
		.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

/** The content hash of a study definition: SHA-256 of its canonical JSON, hex. */
export function hashStudyDefinition(definition: unknown): string {
	return encodeHexLowerCase(sha256(new TextEncoder().encode(canonicalJson(definition))));
}
