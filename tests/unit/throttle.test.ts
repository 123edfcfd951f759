import { describe, expect, test } from 'bun:test';
import { createLoginThrottle } from '../../src/lib/server/auth/login-throttle';
import { FailureBackoff, TokenBucketThrottle } from '../../src/lib/server/auth/throttle';

describe('TokenBucketThrottle', () => {
	test('allows a burst, then one per refill interval', () => {
		const bucket = new TokenBucketThrottle<string>(3, 1000);
		expect([0, 0, 0].map((t) => bucket.consume('a', t).ok)).toEqual([true, true, true]);
		const refused = bucket.consume('a', 0);
		expect(refused).toEqual({ ok: false, retryAfterMs: 1000 });
		expect(bucket.consume('a', 500).ok).toBe(false);
		expect(bucket.consume('a', 1000).ok).toBe(true);
		expect(bucket.consume('b', 1000).ok).toBe(true);
	});

	test('memory is bounded: the oldest keys are forgotten', () => {
		const bucket = new TokenBucketThrottle<number>(1, 60_000, 100);
		for (let key = 0; key < 1000; key++) bucket.consume(key, 0);
		// Key 0 was evicted, so it starts with a full bucket again; key 999 is still empty.
		expect(bucket.consume(0, 1).ok).toBe(true);
		expect(bucket.consume(999, 1).ok).toBe(false);
	});
});

describe('FailureBackoff', () => {
	test('free failures, then growing delays, reset on success', () => {
		const backoff = new FailureBackoff<string>(2, [1000, 4000]);
		backoff.recordFailure('x', 0);
		backoff.recordFailure('x', 0);
		expect(backoff.check('x', 0).ok).toBe(true);
		backoff.recordFailure('x', 0);
		expect(backoff.check('x', 500)).toEqual({ ok: false, retryAfterMs: 500 });
		expect(backoff.check('x', 1000).ok).toBe(true);
		backoff.recordFailure('x', 1000);
		expect(backoff.check('x', 4999).ok).toBe(false);
		backoff.recordFailure('x', 5000);
		// The last delay repeats once the list is exhausted.
		expect(backoff.check('x', 8999).ok).toBe(false);
		backoff.reset('x');
		expect(backoff.check('x', 5001).ok).toBe(true);
	});
});

describe('login throttle', () => {
	test('an account under attack is blocked even from fresh addresses', () => {
		const throttle = createLoginThrottle();
		for (let i = 0; i < 4; i++) {
			expect(throttle.check(`10.0.0.${i}`, 'ada@example.org', 0).ok).toBe(true);
			throttle.recordFailure('ada@example.org', 0);
		}
		expect(throttle.check('10.0.0.99', 'ada@example.org', 10).ok).toBe(false);
		expect(throttle.check('10.0.0.99', 'grace@example.org', 10).ok).toBe(true);
	});

	test('one address cannot spray many accounts', () => {
		const throttle = createLoginThrottle();
		const results = Array.from({ length: 12 }, (_, i) =>
			throttle.check('192.0.2.1', `user${i}@example.org`, 0)
		);
		expect(results.filter((r) => r.ok)).toHaveLength(10);
		expect(results.at(-1)?.ok).toBe(false);
	});
});
