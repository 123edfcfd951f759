import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import {
	INTEGRAL_LIMIT,
	PlaybackController,
	RATE_BAND,
	SEEK_COOLDOWN_MS,
	SEEK_THRESHOLD_S,
	type ControllerInput,
	type PlayerState
} from '../../src/lib/sync/controller';
import {
	simulatePlayback,
	type PlaybackSimulationOptions,
	type PlaybackTick,
	type PlaybackTrace
} from '../../src/lib/sync/playback-simulation';
import { pauseAt, playAt, seekTo } from '../../src/lib/sync/schedule';

const FRAME_MS = 1000 / 60;
const TICKS = [
	['every frame', FRAME_MS],
	['every 250 ms', 250]
] as const;

/** When the true error first got within `boundS`, ms after playback started. */
function convergedAtMs(trace: PlaybackTrace, boundS = 0.01): number | undefined {
	return trace.ticks.find((tick) => Math.abs(tick.trueErrorS) < boundS)?.atMs;
}

function ticksFrom(trace: PlaybackTrace, fromMs: number): PlaybackTick[] {
	return trace.ticks.filter((tick) => tick.atMs >= fromMs);
}

const maxAbsError = (ticks: PlaybackTick[]) =>
	Math.max(...ticks.map((tick) => Math.abs(tick.trueErrorS)));

/** How often the rate correction changed sign (speeding up ↔ slowing down). */
function rateReversals(ticks: PlaybackTick[]): number {
	let reversals = 0;
	let previous = 0;
	for (const tick of ticks) {
		const sign = Math.sign(Math.round((tick.rate - 1) * 1e6));
		if (sign !== 0 && previous !== 0 && sign !== previous) reversals++;
		if (sign !== 0) previous = sign;
	}
	return reversals;
}

function expectRatesInBand(trace: PlaybackTrace): void {
	for (const tick of trace.ticks) {
		expect(tick.rate).toBeGreaterThanOrEqual(1 - RATE_BAND - 1e-9);
		expect(tick.rate).toBeLessThanOrEqual(1 + RATE_BAND + 1e-9);
	}
}

function simulate(options: Partial<PlaybackSimulationOptions> & { initialErrorS: number }) {
	return simulatePlayback({ seed: 1, durationMs: 30_000, ...options });
}

describe('converging by rate', () => {
	for (const [label, tickMs] of TICKS) {
		for (const initialErrorS of [0.2, -0.2]) {
			test(`${initialErrorS * 1000} ms off, ticking ${label}: within 10 ms in 6 s, no seek`, () => {
				const trace = simulate({ initialErrorS, tickMs, seed: 11 });
				expect(trace.seekTimesMs).toEqual([]);
				const at = convergedAtMs(trace);
				expect(at).toBeLessThanOrEqual(6_000);
				expect(maxAbsError(ticksFrom(trace, at as number))).toBeLessThan(0.012);
				expect(trace.ticks.at(-1)?.rate).toBe(1);
				expectRatesInBand(trace);
			});
		}
	}

	test('the frame is matched at its display time, even two frames late', () => {
		const trace = simulate({ initialErrorS: 0.1, player: { displayDelayMs: 33 } });
		expect(convergedAtMs(trace)).toBeLessThanOrEqual(5_000);
		expect(maxAbsError(ticksFrom(trace, 10_000))).toBeLessThan(0.012);
	});
});

describe('seeking', () => {
	for (const [label, tickMs] of TICKS) {
		for (const initialErrorS of [3, -3]) {
			test(`${initialErrorS} s off, ticking ${label}: exactly one seek, then within 10 ms`, () => {
				const trace = simulate({ initialErrorS, tickMs, seed: 21 });
				expect(trace.seekTimesMs).toHaveLength(1);
				expect(trace.seekTimesMs[0]).toBeLessThanOrEqual(2 * tickMs);
				expect(convergedAtMs(trace)).toBeLessThanOrEqual(6_000);
				expect(maxAbsError(ticksFrom(trace, 8_000))).toBeLessThan(0.012);
				expectRatesInBand(trace);
			});
		}
	}

	test('compensating the seek latency leaves a smaller error after each seek', () => {
		// The researcher jumps the video every 10 s; every seek takes 250 ms.
		const jumps = Array.from({ length: 6 }, (_, i) => ({
			atMs: 5_000 + i * 10_000,
			change: (schedule: Parameters<typeof seekTo>[0], serverNowMs: number) =>
				seekTo(schedule, 100 + i * 50, serverNowMs)
		}));
		const run = (compensateSeekLatency: boolean) =>
			simulate({
				initialErrorS: 0,
				durationMs: 65_000,
				scheduleChanges: jumps,
				player: { seekLatencyMs: { min: 250, max: 250 } },
				controller: { compensateSeekLatency }
			});
		/** The error when each seek has settled (the first tick not spent seeking). */
		const residuals = (trace: PlaybackTrace) =>
			trace.seekTimesMs.map((seekMs) => {
				const settled = trace.ticks.find((t) => t.atMs > seekMs && t.phase !== 'seeking');
				return Math.abs(settled?.trueErrorS ?? Infinity);
			});
		const compensated = run(true);
		const naive = run(false);
		expect(compensated.seekTimesMs).toHaveLength(6);
		expect(naive.seekTimesMs).toHaveLength(6);
		expect(Math.abs(compensated.controller.seekLatencyMs - 250)).toBeLessThan(40);
		// The first seek guesses 150 ms; after that the measured latency is used.
		const later = residuals(compensated).slice(1);
		expect(Math.max(...later)).toBeLessThan(0.04);
		expect(Math.min(...residuals(naive))).toBeGreaterThan(0.2);
	});

	test('pause and play-at-T from the schedule: frozen, restarted in step, no visible seek', () => {
		const trace = simulate({
			initialErrorS: 0,
			durationMs: 15_000,
			scheduleChanges: [
				{ atMs: 3_000, change: (schedule, now) => pauseAt(schedule, now) },
				{ atMs: 6_000, change: (schedule, now) => playAt(schedule, now + 500) }
			]
		});
		const idle = trace.ticks.filter((tick) => tick.phase === 'idle');
		expect(idle.length).toBeGreaterThan(100);
		// Paused where the schedule froze (give or take the tick the pause arrived on).
		for (const tick of idle) expect(Math.abs(tick.trueErrorS)).toBeLessThan(0.02);
		// No seek while playing: at most the invisible one back to the frozen frame.
		for (const seekMs of trace.seekTimesMs) {
			expect(seekMs).toBeGreaterThanOrEqual(3_000);
			expect(seekMs).toBeLessThan(6_500);
		}
		expect(maxAbsError(ticksFrom(trace, 7_000))).toBeLessThan(0.012);
	});

	test('a seek that always lands in unbuffered media does not loop', () => {
		const trace = simulate({
			initialErrorS: 3,
			durationMs: 60_000,
			player: { seekLatencyMs: { min: 250, max: 300 }, bufferAfterSeekMs: 800 }
		});
		// The first seek misses by the buffering it did not know about; the second aims for it.
		expect(trace.seekTimesMs.length).toBeLessThanOrEqual(2);
		expect(maxAbsError(ticksFrom(trace, 20_000))).toBeLessThan(0.012);
		for (let i = 1; i < trace.seekTimesMs.length; i++) {
			const gap = (trace.seekTimesMs[i] as number) - (trace.seekTimesMs[i - 1] as number);
			expect(gap).toBeGreaterThanOrEqual(SEEK_COOLDOWN_MS);
		}
	});
});

describe('stability', () => {
	test('no hunting: noisy frames and a drifting media clock settle without oscillation', () => {
		const trace = simulate({
			initialErrorS: 0.2,
			durationMs: 120_000,
			player: { measurementNoiseMs: 2, mediaClockPpm: 200 }
		});
		const after = ticksFrom(trace, convergedAtMs(trace) as number);
		// A 200 ppm slow media clock drifts 10 ms in 50 s: a correction or two a minute, all
		// in the same direction, never back and forth.
		expect(rateReversals(after)).toBeLessThanOrEqual(2);
		expect(trace.rateWrites).toBeLessThanOrEqual(50);
		expect(maxAbsError(after)).toBeLessThan(0.013);
		// Mostly at exactly the nominal rate; corrections are small and brief.
		const nominal = after.filter((tick) => tick.rate === 1).length / after.length;
		expect(nominal).toBeGreaterThanOrEqual(0.8);
		for (const tick of after) expect(Math.abs(tick.rate - 1)).toBeLessThanOrEqual(0.02);
		expect(trace.seekTimesMs).toEqual([]);
	});

	test('stalls: held, not treated as drift; a long one costs exactly one seek', () => {
		const trace = simulate({
			initialErrorS: 0,
			durationMs: 60_000,
			player: {
				stalls: [
					{ atMs: 5_000, durationMs: 150 },
					{ atMs: 15_000, durationMs: 800 },
					{ atMs: 30_000, durationMs: 2_500 }
				]
			}
		});
		const stalled = trace.ticks.filter((tick) => tick.phase === 'stalled');
		expect(stalled.length).toBeGreaterThan(0);
		for (const tick of stalled) expect(tick.action).toBe('hold');
		// The short stall (150 ms behind) is made up by rate; the two long ones by one seek each,
		// ordered once playback resumed.
		expect(trace.seekTimesMs).toHaveLength(2);
		expect(trace.seekTimesMs[0]).toBeGreaterThanOrEqual(15_800);
		expect(trace.seekTimesMs[1]).toBeGreaterThanOrEqual(32_500);
		expect(Math.abs(trace.controller.integralTerm)).toBeLessThanOrEqual(INTEGRAL_LIMIT);
		expect(maxAbsError(ticksFrom(trace, 45_000))).toBeLessThan(0.012);
		expect(trace.ticks.at(-1)?.rate).toBe(1);
		expectRatesInBand(trace);
	});

	test('random offsets, latencies and links: converges, never more than two seeks (property)', () => {
		fc.assert(
			fc.property(
				fc.record({
					seed: fc.integer({ min: 1, max: 1_000_000 }),
					initialErrorS: fc.double({ min: -10, max: 10, noNaN: true }),
					seekMinMs: fc.integer({ min: 20, max: 300 }),
					seekSpreadMs: fc.integer({ min: 0, max: 200 }),
					rateLatencyMs: fc.integer({ min: 0, max: 150 }),
					displayDelayMs: fc.integer({ min: 0, max: 33 }),
					noiseMs: fc.double({ min: 0, max: 3, noNaN: true }),
					tickMs: fc.constantFrom(FRAME_MS, 100, 250),
					upMs: fc.integer({ min: 5, max: 80 }),
					downMs: fc.integer({ min: 5, max: 80 }),
					jitterMs: fc.integer({ min: 0, max: 15 })
				}),
				(c) => {
					const trace = simulatePlayback({
						seed: c.seed,
						durationMs: 25_000,
						initialErrorS: c.initialErrorS,
						tickMs: c.tickMs,
						link: {
							up: { baseMs: c.upMs, jitterMs: c.jitterMs },
							down: { baseMs: c.downMs, jitterMs: c.jitterMs }
						},
						player: {
							seekLatencyMs: { min: c.seekMinMs, max: c.seekMinMs + c.seekSpreadMs },
							rateLatencyMs: c.rateLatencyMs,
							displayDelayMs: c.displayDelayMs,
							measurementNoiseMs: c.noiseMs
						}
					});
					expect(trace.seekTimesMs.length).toBeLessThanOrEqual(2);
					if (Math.abs(c.initialErrorS) <= SEEK_THRESHOLD_S) expect(trace.seekTimesMs).toEqual([]);
					expectRatesInBand(trace);
					// An asymmetric path biases the clock by (up − down) / 2, which no client can
					// see; the error is graded net of it.
					const biasS = (c.upMs - c.downMs) / 2 / 1000;
					for (const tick of ticksFrom(trace, 20_000)) {
						expect(Math.abs(tick.trueErrorS + biasS)).toBeLessThan(0.015);
					}
				}
			),
			{ numRuns: 60 }
		);
	});
});

describe('PlaybackController ticks', () => {
	const playing: PlayerState = { seeking: false, waiting: false, paused: false, rate: 1 };
	const tick = (nowMs: number, errorS: number, player: Partial<PlayerState> = {}) =>
		({
			nowMs,
			targetMediaTime: 100 + nowMs / 1000,
			targetRate: 1,
			displayedMediaTime: 100 + nowMs / 1000 - errorS,
			player: { ...playing, ...player }
		}) satisfies ControllerInput;

	test('inside the dead band: nothing to do', () => {
		const controller = new PlaybackController();
		expect(controller.update(tick(0, 0.0015))).toEqual({
			action: { kind: 'hold' },
			errorS: expect.closeTo(0.0015, 9),
			phase: 'locked'
		});
	});

	test('behind: faster, within the band; ahead: slower', () => {
		const behind = new PlaybackController().update(tick(0, 0.03));
		expect(behind.action).toEqual({ kind: 'rate', rate: expect.closeTo(1.03, 9) });
		const far = new PlaybackController().update(tick(0, 0.2));
		expect(far.action).toEqual({ kind: 'rate', rate: expect.closeTo(1 + RATE_BAND, 9) });
		const ahead = new PlaybackController().update(tick(0, -0.03));
		expect(ahead.action).toEqual({ kind: 'rate', rate: expect.closeTo(0.97, 9) });
	});

	test('rate writes are spaced out', () => {
		const controller = new PlaybackController();
		expect(controller.update(tick(0, 0.03)).action.kind).toBe('rate');
		expect(controller.update(tick(50, 0.02, { rate: 1.03 })).action.kind).toBe('hold');
		expect(controller.update(tick(300, 0.02, { rate: 1.03 })).action.kind).toBe('rate');
	});

	test('far off: a seek aimed ahead by the seek latency, then quiet until it settles', () => {
		const controller = new PlaybackController();
		expect(controller.update(tick(0, 2)).action.kind).not.toBe('seek'); // confirm first
		const seek = controller.update(tick(16, 2));
		expect(seek.action).toEqual({ kind: 'seek', to: expect.closeTo(100.016 + 0.15, 9), rate: 1 });
		// The player's own seeking and buffering afterwards are not errors to act on.
		expect(controller.update(tick(32, 2, { seeking: true })).phase).toBe('seeking');
		expect(controller.update(tick(200, 2, { waiting: true })).action.kind).toBe('hold');
		expect(controller.seeks).toBe(1);
	});

	test('a player that buffers on its own is held, not steered', () => {
		const controller = new PlaybackController();
		const output = controller.update(tick(0, 0.1, { waiting: true }));
		expect(output).toMatchObject({ action: { kind: 'hold' }, phase: 'stalled' });
	});

	test('a paused schedule: the exact frame, by seek, without aiming ahead', () => {
		const controller = new PlaybackController();
		const output = controller.update({
			nowMs: 0,
			targetMediaTime: 42,
			targetRate: 0,
			displayedMediaTime: 40,
			player: { ...playing, paused: true }
		});
		expect(output.action).toEqual({ kind: 'seek', to: 42, rate: 1 });
	});

	test('a paused video follows scrubbing at once, but never seeks twice to one target', () => {
		const controller = new PlaybackController();
		const still = (nowMs: number, target: number, displayed: number, seeking = false) =>
			controller.update({
				nowMs,
				targetMediaTime: target,
				targetRate: 0,
				displayedMediaTime: displayed,
				player: { ...playing, paused: true, seeking }
			}).action;
		expect(still(0, 42, 40)).toMatchObject({ kind: 'seek', to: 42 });
		expect(still(100, 42, 40, true)).toEqual({ kind: 'hold' });
		// Landed on a keyframe 80 ms short: sending it there again would land there again.
		expect(still(200, 42, 41.92)).toEqual({ kind: 'hold' });
		expect(still(300, 42, 41.92)).toEqual({ kind: 'hold' });
		// The researcher scrubs on: followed right away, no cooldown.
		expect(still(400, 50, 41.92)).toMatchObject({ kind: 'seek', to: 50 });
		expect(still(500, 50, 50)).toEqual({ kind: 'hold' });
		expect(still(600, 10, 50)).toMatchObject({ kind: 'seek', to: 10 });
	});
});
