import { describe, expect, test } from 'bun:test';
import { DEFAULT_BACKOFF, ReconnectBackoff } from '../../src/lib/client/backoff';

/** A random source that always returns `value`, so delays are the ceiling times `value`. */
const fixed = (value: number) => () => value;

describe('ReconnectBackoff', () => {
	test('delays double per attempt from the base and stop at the cap', () => {
		const backoff = new ReconnectBackoff({ baseMs: 100, capMs: 1000 }, fixed(0.5));
		const delays = Array.from({ length: 6 }, () => backoff.nextDelay());
		expect(delays).toEqual([50, 100, 200, 400, 500, 500]);
	});

	test('reset starts over from the base', () => {
		const backoff = new ReconnectBackoff({ baseMs: 100, capMs: 1000 }, fixed(0.5));
		backoff.nextDelay();
		backoff.nextDelay();
		backoff.reset();
		expect(backoff.nextDelay()).toBe(50);
	});

	test('slowing down waits between half the cap and the cap, and still counts the attempt', () => {
		const low = new ReconnectBackoff({ baseMs: 100, capMs: 1000 }, fixed(0));
		const high = new ReconnectBackoff({ baseMs: 100, capMs: 1000 }, fixed(0.999));
		expect(low.nextDelay(true)).toBe(500);
		const slow = high.nextDelay(true);
		expect(slow).toBeGreaterThanOrEqual(500);
		expect(slow).toBeLessThan(1000);
		// The attempt was counted: the next ordinary delay is drawn below base·2¹.
		expect(high.nextDelay()).toBe(199);
	});

	test('unset options fall back to the defaults', () => {
		expect(new ReconnectBackoff({ capMs: 5 }, Math.random).options).toEqual({
			...DEFAULT_BACKOFF,
			capMs: 5
		});
		expect(new ReconnectBackoff(undefined, Math.random).options).toEqual(DEFAULT_BACKOFF);
	});

	test('a huge attempt count stays finite', () => {
		const backoff = new ReconnectBackoff({ baseMs: 100, capMs: 1000 }, fixed(0.5));
		for (let attempt = 0; attempt < 2000; attempt++) backoff.nextDelay();
		expect(backoff.nextDelay()).toBe(500);
	});
});
