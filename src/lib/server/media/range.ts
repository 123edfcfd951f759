/** What to answer to a request's `Range` header (RFC 9110 §14). `end` is inclusive. */
export type RangeDecision =
	{ kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const FULL: RangeDecision = { kind: 'full' };
const UNSATISFIABLE: RangeDecision = { kind: 'unsatisfiable' };

/**
 * Decides how to answer a `Range` header for a representation of `size` bytes. Handles one
 * range: `bytes=0-99`, the open `bytes=100-` and the suffix `bytes=-500`. A header we do not
 * understand, another unit, or several ranges are answered with the full body, which RFC 9110
 * allows; a range that starts past the end (or an empty suffix) is unsatisfiable.
 */
export function parseRange(header: string | null, size: number): RangeDecision {
	if (header === null) return FULL;
	const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
	if (!match) return FULL;
	const [, first = '', last = ''] = match;
	if (first === '' && last === '') return FULL;
	if (first === '') {
		const suffix = Number(last);
		if (suffix === 0 || size === 0) return UNSATISFIABLE;
		return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
	}
	const start = Number(first);
	// An inverted range is invalid, and an invalid Range header is ignored.
	if (last !== '' && Number(last) < start) return FULL;
	if (start >= size) return UNSATISFIABLE;
	const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
	return { kind: 'partial', start, end };
}
