import { describe, expect, test } from 'bun:test';
import { createLimiter, LimiterBusyError } from '../../src/lib/server/concurrency';

describe('createLimiter', () => {
	test('never runs more than the limit at once', async () => {
		const limiter = createLimiter(2, 100);
		let running = 0;
		let peak = 0;
		const task = async () => {
			running++;
			peak = Math.max(peak, running);
			await Bun.sleep(5);
			running--;
		};
		await Promise.all(Array.from({ length: 20 }, () => limiter.run(task)));
		expect(peak).toBe(2);
		expect(limiter.active).toBe(0);
	});

	test('refuses work beyond the queue bound instead of growing without limit', async () => {
		const limiter = createLimiter(1, 2);
		let release!: () => void;
		const blocker = limiter.run(() => new Promise<void>((resolve) => (release = resolve)));
		const queued = [limiter.run(async () => 1), limiter.run(async () => 2)];
		await expect(limiter.run(async () => 3)).rejects.toBeInstanceOf(LimiterBusyError);
		release();
		await blocker;
		expect(await Promise.all(queued)).toEqual([1, 2]);
	});

	test('a failing task frees its slot', async () => {
		const limiter = createLimiter(1, 10);
		await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow(
			'boom'
		);
		expect(await limiter.run(async () => 'next')).toBe('next');
	});
});
