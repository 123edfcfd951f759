/**
 * Helpers for the storable-text tests: strings that hit the rule's edges often, an oracle for
 * the rule written independently of `src/lib/protocol/text.ts`.
 */
import fc from 'fast-check';

/** Characters at the rule's edges, and a few that look dangerous but are fine. */
const EDGES = [
	'\u0000',
	'\ud800',
	'\udbff',
	'\udc00',
	'\udfff',
	'\ufeff',
	'\u2028',
	'\uffff',
	'\ufffe',
	'\u0001',
	'\u007f',
	'\\',
	'"',
	'😀',
	' ',
	'%00'
];

const unit = fc.oneof(
	{ weight: 30, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
	{ weight: 2, arbitrary: fc.constantFrom(...EDGES) },
	{
		weight: 1,
		arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))
	}
);

/** Any string, with NUL, lone surrogates and a leading BOM coming up in a good share of runs. */
export function anyText(maxLength = 24): fc.Arbitrary<string> {
	return fc.oneof(
		{ weight: 4, arbitrary: fc.string({ unit, maxLength }) },
		{ weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength }) },
		{ weight: 1, arbitrary: fc.string({ unit, maxLength }).map((s) => `\ufeff${s}`) }
	);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The rule, restated for the tests: NUL, an unpaired surrogate, or a leading U+FEFF. */
export function breaksRule(text: string): boolean {
	return text.includes('\u0000') || LONE_SURROGATE.test(text) || text.startsWith('\ufeff');
}

/** Whether any string or key anywhere in `value` breaks the rule. */
export function anyBreaksRule(value: unknown): boolean {
	if (typeof value === 'string') return breaksRule(value);
	if (value === null || typeof value !== 'object') return false;
	if (Array.isArray(value)) return value.some(anyBreaksRule);
	return Object.entries(value).some(([key, child]) => breaksRule(key) || anyBreaksRule(child));
}

/** Percent-encodes text as a browser would (UTF-8; an unpaired surrogate becomes U+FFFD). */
export function percentEncode(text: string): string {
	return [...new TextEncoder().encode(text)]
		.map((byte) => `%${byte.toString(16).padStart(2, '0').toUpperCase()}`)
		.join('');
}

export { uniqueId as nextId } from './room-seed';
