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

describe('FailureBackoff forgetting', () => {
	test('failures older than forgetAfterMs no longer count', () => {
		const backoff = new FailureBackoff<string>(1, [1000], 100, 60_000);
		backoff.recordFailure('x', 0);
		backoff.recordFailure('x', 1);
		expect(backoff.check('x', 2).ok).toBe(false);
		// An hour later (well, a minute here) the count starts again: one free failure.
		backoff.recordFailure('x', 70_000);
		expect(backoff.check('x', 70_001).ok).toBe(true);
	});
});

describe('login throttle', () => {
	const ada = 'ada@example.org';
	const from = (address: string, device: string | null = null) => ({
		address,
		account: ada,
		device
	});

	test('rotating addresses lock untrusted clients out after 5 free failures; a trusted device is not', () => {
		const throttle = createLoginThrottle();
		for (let i = 0; i < 6; i++) {
			expect(throttle.check(from(`10.0.0.${i}`), 0).ok).toBe(true);
			throttle.recordFailure(from(`10.0.0.${i}`), 0);
		}
		expect(throttle.check(from('10.0.0.99'), 10)).toEqual({ ok: false, retryAfterMs: 990 });
		expect(throttle.check(from('10.0.0.99', 'laptop'), 10).ok).toBe(true);
		expect(throttle.check({ ...from('10.0.0.99'), account: 'grace@example.org' }, 10).ok).toBe(
			true
		);
	});

	test('one client guessing one account is slowed after 3 failures, others are not yet', () => {
		const throttle = createLoginThrottle();
		for (let i = 0; i < 4; i++) throttle.recordFailure(from('192.0.2.1'), 0);
		expect(throttle.check(from('192.0.2.1'), 10).ok).toBe(false);
		expect(throttle.check(from('192.0.2.2'), 10).ok).toBe(true);
	});

	test('one address cannot spray many accounts', () => {
		const throttle = createLoginThrottle();
		const results = Array.from({ length: 12 }, (_, i) =>
			throttle.check({ address: '192.0.2.1', account: `user${i}@example.org`, device: null }, 0)
		);
		expect(results.filter((r) => r.ok)).toHaveLength(10);
		expect(results.at(-1)?.ok).toBe(false);
		// A trusted device does not spend the address's tokens, nor is it stopped by them.
		expect(throttle.check(from('192.0.2.1', 'laptop'), 0).ok).toBe(true);
	});

	test('a trusted device is throttled by its own failures only, and its success clears them', () => {
		const throttle = createLoginThrottle();
		for (let i = 0; i < 6; i++) throttle.recordFailure(from('192.0.2.7', 'stolen'), 0);
		expect(throttle.check(from('192.0.2.7', 'stolen'), 10).ok).toBe(false);
		expect(throttle.check(from('192.0.2.7', 'laptop'), 10).ok).toBe(true);
		expect(throttle.check(from('192.0.2.7'), 10).ok).toBe(true);
		throttle.recordSuccess(from('192.0.2.7', 'stolen'));
		expect(throttle.check(from('192.0.2.7', 'stolen'), 10).ok).toBe(true);
	});

	test("an untrusted success does not reset the account's count for a distributed guesser", () => {
		const throttle = createLoginThrottle();
		for (let i = 0; i < 5; i++) throttle.recordFailure(from(`10.0.1.${i}`), 0);
		throttle.recordSuccess(from('10.0.1.0'));
		throttle.recordFailure(from('10.0.1.50'), 0);
		expect(throttle.check(from('10.0.1.51'), 10).ok).toBe(false);
	});
});
