import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { parseRange } from '../../src/lib/server/media/range';

const SIZE = 1000;
const partial = (start: number, end: number) => ({ kind: 'partial', start, end });
const FULL = { kind: 'full' };
const UNSATISFIABLE = { kind: 'unsatisfiable' };

describe('parseRange (RFC 9110 single ranges)', () => {
	const cases: [string | null, object][] = [
		[null, FULL],
		['bytes=0-99', partial(0, 99)],
		['bytes=0-0', partial(0, 0)],
		['bytes=100-', partial(100, 999)],
		['bytes=999-', partial(999, 999)],
		['bytes=-50', partial(950, 999)],
		['bytes=-1', partial(999, 999)],
		['bytes=-5000', partial(0, 999)],
		['bytes=990-2000', partial(990, 999)],
		['Bytes = 10 - 19', partial(10, 19)],
		['bytes=1000-', UNSATISFIABLE],
		['bytes=5000-6000', UNSATISFIABLE],
		['bytes=-0', UNSATISFIABLE],
		// Invalid or unsupported headers are ignored: the whole body is sent.
		['bytes=5-3', FULL],
		['bytes=-', FULL],
		['bytes=abc', FULL],
		['bytes=0-99,200-299', FULL],
		['items=0-9', FULL],
		['', FULL],
		['bytes=1e3-', FULL]
	];
	for (const [header, expected] of cases) {
		test(`${JSON.stringify(header)} → ${JSON.stringify(expected)}`, () => {
			expect(parseRange(header, SIZE)).toEqual(expected as never);
		});
	}

	test('an empty representation satisfies no range', () => {
		expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
		expect(parseRange('bytes=-10', 0)).toEqual({ kind: 'unsatisfiable' });
		expect(parseRange(null, 0)).toEqual({ kind: 'full' });
	});

	test('a partial answer always lies within the representation', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 1, max: 1e9 }),
				fc.option(fc.nat({ max: 2e9 })),
				fc.option(fc.nat({ max: 2e9 })),
				(size, first, last) => {
					const header = `bytes=${first ?? ''}-${last ?? ''}`;
					const result = parseRange(header, size);
					if (result.kind !== 'partial') return;
					expect(result.start).toBeGreaterThanOrEqual(0);
					expect(result.end).toBeGreaterThanOrEqual(result.start);
					expect(result.end).toBeLessThan(size);
				}
			)
		);
	});
});
