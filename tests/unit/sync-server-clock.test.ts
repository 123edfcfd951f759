import { describe, expect, test } from 'bun:test';
import type { PingResult } from '../../src/lib/client/pings';
import { ServerClock } from '../../src/lib/client/server-clock';
import type { Timers } from '../../src/lib/client/timers';
import { PING_BURST_SIZE, PING_FAST_INTERVAL_MS, PING_INTERVAL_MS } from '../../src/lib/sync/clock';

/** A clock whose pings answer at once (server 500 ms ahead) and whose timers we run by hand. */
function setUp() {
	let now = 1_000;
	const delays: number[] = [];
	let pending: (() => void) | undefined;
	const timers: Timers = {
		setTimeout: (callback, ms) => {
			delays.push(ms);
			pending = callback;
			return delays.length;
		},
		clearTimeout: () => (pending = undefined)
	};
	const ping = async (): Promise<PingResult> => {
		const t0 = now;
		now += 20;
		return { ok: true, t0, t1: t0 + 510, t2: t0 + 510, t3: now, roundTripMs: 20, offsetMs: 500 };
	};
	const clock = new ServerClock({ ping, now: () => now, timers });
	/** Fires the pending timer and lets the ping resolve. */
	const next = async () => {
		const callback = pending;
		pending = undefined;
		callback?.();
		await Bun.sleep(0);
	};
	return { clock, delays, next };
}

describe('ServerClock pace', () => {
	test('a burst, then one ping a second; fast while asked, and back when released', async () => {
		const { clock, delays, next } = setUp();
		clock.start();
		await Bun.sleep(0);
		for (let i = 1; i < PING_BURST_SIZE + 2; i++) await next();
		expect(delays.at(-1)).toBe(PING_INTERVAL_MS);
		const release = clock.requestFastPings();
		await next();
		expect(delays.at(-1)).toBe(PING_FAST_INTERVAL_MS);
		// Two players asking: fast until both released.
		const releaseOther = clock.requestFastPings();
		release();
		release(); // twice: no effect
		await next();
		expect(delays.at(-1)).toBe(PING_FAST_INTERVAL_MS);
		releaseOther();
		await next();
		expect(delays.at(-1)).toBe(PING_INTERVAL_MS);
		expect(clock.serverNow(2_000)).toBeCloseTo(2_500, 6);
		clock.stop();
	});
});
