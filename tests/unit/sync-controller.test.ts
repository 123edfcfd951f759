import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import {
	PlaybackController,
	SEEK_COOLDOWN_MS,
	SEEK_THRESHOLD_S,
	type ControllerInput,
	type PlayerState
} from '../../src/lib/sync/controller';
import { RATE_BAND } from '../../src/lib/sync/rate-steering';
import { SimulatedPlayer } from '../../src/lib/sync/player-simulation';
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

/**
 * The lock band of a 60 fps video (the simulation's default frame interval): ±8.3 ms, left
 * only beyond 8.3 + 2.5 ms; a little measurement noise on top.
 */
const SETTLED_S = 0.012;

/** From when on the true error stayed within `boundS` to the end, ms after playback started. */
function settledAtMs(trace: PlaybackTrace, boundS = SETTLED_S): number | undefined {
	const last = trace.ticks.findLastIndex((tick) => Math.abs(tick.trueErrorS) >= boundS);
	return trace.ticks[last + 1]?.atMs;
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

/** A Chromium-like player: the media stands still 18 ms whenever the rate leaves 1. */
function simulate(options: Partial<PlaybackSimulationOptions> & { initialErrorS: number }) {
	return simulatePlayback({
		seed: 1,
		durationMs: 30_000,
		...options,
		player: { rateSetbackMs: 18, ...options.player }
	});
}

describe('converging by rate', () => {
	for (const [label, tickMs] of TICKS) {
		for (const initialErrorS of [0.2, -0.2]) {
			test(`${initialErrorS * 1000} ms off, ticking ${label}: settled in 6 s, no seek`, () => {
				const trace = simulate({ initialErrorS, tickMs, seed: 11 });
				expect(trace.seekTimesMs).toEqual([]);
				expect(settledAtMs(trace)).toBeLessThanOrEqual(6_000);
				expect(trace.ticks.at(-1)?.rate).toBe(1);
				expectRatesInBand(trace);
				// A pulse or two: a rate, then nominal again.
				expect(trace.rateWrites).toBeLessThanOrEqual(6);
			});
		}
	}

	test('the frame is matched at its display time, even two frames late', () => {
		const trace = simulate({ initialErrorS: 0.1, player: { displayDelayMs: 33 } });
		expect(settledAtMs(trace)).toBeLessThanOrEqual(5_000);
	});
});

describe('seeking', () => {
	for (const [label, tickMs] of TICKS) {
		for (const initialErrorS of [3, -3]) {
			test(`${initialErrorS} s off, ticking ${label}: exactly one seek, then within 10 ms`, () => {
				const trace = simulate({ initialErrorS, tickMs, seed: 21 });
				expect(trace.seekTimesMs).toHaveLength(1);
				expect(trace.seekTimesMs[0]).toBeLessThanOrEqual(2 * tickMs);
				expect(settledAtMs(trace)).toBeLessThanOrEqual(6_000);
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
			player: { playLatencyMs: 65 },
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
		const after = ticksFrom(trace, settledAtMs(trace, 0.014) as number);
		expect(after.length).toBeGreaterThan(0);
		// A 200 ppm slow media clock drifts 10 ms in 50 s: a pulse or two a minute, all in the
		// same direction, never back and forth.
		expect(rateReversals(after)).toBeLessThanOrEqual(2);
		expect(trace.rateWrites).toBeLessThanOrEqual(12);
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
			frameIntervalMs: 1000 / 30,
			player: { ...playing, ...player }
		}) satisfies ControllerInput;
	/** Frames every 33 ms with a steady error, from `fromMs` for `forMs`: the last output. */
	const feed = (
		controller: PlaybackController,
		fromMs: number,
		forMs: number,
		errorS: number,
		player: Partial<PlayerState> = {}
	) => {
		let output = controller.update(tick(fromMs, errorS, player));
		for (let at = fromMs + 33; at <= fromMs + forMs; at += 33) {
			output = controller.update(tick(at, errorS, player));
		}
		return output;
	};

	test('inside the lock band (half a frame): locked at the nominal rate, nothing written', () => {
		const controller = new PlaybackController();
		// 15 ms behind on a 30 fps video: the nearest frame position, nothing to gain.
		expect(feed(controller, 0, 300, 0.015)).toEqual({
			action: { kind: 'hold' },
			errorS: expect.closeTo(0.015, 9),
			phase: 'locked'
		});
		// Locked, the error may wander by the exit margin before anything is done.
		expect(feed(controller, 333, 1_000, 0.018).phase).toBe('locked');
		expect(controller.pulses).toBe(0);
	});

	test('the band follows the measured frame interval: 15 ms is too far at 60 fps', () => {
		const controller = new PlaybackController();
		const outputs = [0, 33, 66, 99, 132, 165, 198, 231, 264].map((at) =>
			controller.update({ ...tick(at, 0.015), frameIntervalMs: 1000 / 60 })
		);
		expect(outputs.at(-1)?.phase).toBe('correcting');
		expect(outputs.at(-1)?.action.kind).toBe('rate');
	});

	test('behind: one faster pulse covering the error and the setback; ahead: a slower one', () => {
		// 30 ms behind: 30 + 15 ms of setback to gain, at 4.5% for a second.
		const behind = feed(new PlaybackController(), 0, 264, 0.03);
		expect(behind.action).toEqual({ kind: 'rate', rate: expect.closeTo(1.045, 9) });
		// 200 ms behind: the band's edge (a longer pulse).
		const far = feed(new PlaybackController(), 0, 264, 0.2);
		expect(far.action).toEqual({ kind: 'rate', rate: expect.closeTo(1 + RATE_BAND, 9) });
		// 40 ms ahead: the setback takes 15 back by itself, 25 ms more at 2.5%.
		const ahead = feed(new PlaybackController(), 0, 264, -0.04);
		expect(ahead.action).toEqual({ kind: 'rate', rate: expect.closeTo(0.975, 9) });
	});

	test('a pulse: its rate for its duration, then nominal, then time to settle', () => {
		const controller = new PlaybackController();
		expect(feed(controller, 0, 264, 0.03).action).toMatchObject({ kind: 'rate' });
		// The pulse lasts (30 + 15) ms / 4.5% = 1 s: nothing is written meanwhile.
		const during = feed(controller, 297, 900, 0.03, { rate: 1.045 });
		expect(during).toMatchObject({ action: { kind: 'hold' }, phase: 'correcting' });
		// Over: nominal at once.
		const over = controller.update(tick(1_300, 0.005, { rate: 1.045 }));
		expect(over.action).toEqual({ kind: 'rate', rate: 1 });
		// Settling and averaging afresh before judging again: no second pulse straight away.
		expect(feed(controller, 1_333, 400, 0.005).action.kind).toBe('hold');
		expect(feed(controller, 1_766, 300, 0.005).phase).toBe('locked');
		expect(controller.pulses).toBe(1);
	});

	test('the setback is learned from what a pulse leaves behind', () => {
		const controller = new PlaybackController();
		feed(controller, 0, 264, 0.03);
		feed(controller, 297, 1_000, 0.03, { rate: 1.045 });
		controller.update(tick(1_300, 0.01, { rate: 1.045 }));
		// 10 ms still behind: the media lost 10 ms more than the 15 allowed for.
		feed(controller, 1_333, 700, 0.01);
		expect(controller.rateSetbackMs).toBeCloseTo(15 + 0.3 * 10, 6);
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

describe('on a 60 Hz display showing a 30 fps video (frames on refreshes, kept cadence)', () => {
	const FRAME_S = 1 / 30;
	/** The lock band of a 30 fps video, left only beyond half a frame plus 2.5 ms. */
	const BAND_S = FRAME_S / 2 + 0.0025;

	function run(seed: number, phaseMs: number, initialErrorS: number) {
		return simulatePlayback({
			seed,
			durationMs: 60_000,
			initialErrorS,
			link: { up: { baseMs: 20, jitterMs: 10 }, down: { baseMs: 20, jitterMs: 10 } },
			player: {
				display: { refreshHz: 60, frameRate: 30, phaseMs },
				rateSetbackMs: 18,
				rateLatencyMs: 20
			}
		});
	}

	for (const phaseMs of [0, 4, 8, 12]) {
		for (const initialErrorS of [0.12, 0.03, -0.05]) {
			test(`refresh phase ${phaseMs} ms, ${initialErrorS * 1000} ms off: locks, then not one rate write`, () => {
				const trace = run(phaseMs + 1, phaseMs, initialErrorS);
				// The last correction is over within a few seconds...
				const lastWriteMs = trace.ticks.findLast((tick) => tick.action !== 'hold')?.atMs ?? 0;
				expect(lastWriteMs).toBeLessThanOrEqual(6_000);
				expect(trace.controller.pulses).toBeLessThanOrEqual(3);
				// ...and from a second later to the end of the minute: locked at the nominal rate,
				// within half a frame of the target (plus the exit margin).
				const after = ticksFrom(trace, lastWriteMs + 1_000);
				expect(after.length).toBeGreaterThan(1_000);
				for (const tick of after) {
					expect(tick.action).toBe('hold');
					expect(tick.rate).toBe(1);
					expect(tick.phase).toBe('locked');
				}
				expect(maxAbsError(after)).toBeLessThan(BAND_S);
				expect(trace.seekTimesMs).toEqual([]);
			});
		}
	}

	test('corrections are few clear pulses: each a rate of 1–5% then nominal, never a drizzle', () => {
		for (const seed of [1, 2, 3, 4, 5]) {
			const trace = run(seed, 3 * seed, 0.08);
			const written = trace.ticks.filter((tick) => tick.action === 'rate').map((tick) => tick.rate);
			expect(written.length).toBeLessThanOrEqual(6);
			for (const rate of written) {
				const offset = Math.abs(rate - 1);
				expect(offset === 0 || (offset >= 0.01 - 1e-9 && offset <= RATE_BAND + 1e-9)).toBe(true);
			}
			expect(written.at(-1)).toBe(1);
		}
	});
});

describe('the simulated display (why pulses)', () => {
	/** Media time on screen after `ms` at `rate`, from a settled start at rate 1. */
	function shownAfter(rate: number, ms: number): number {
		const player = new SimulatedPlayer({
			seed: 1,
			startAtMs: 0,
			startMediaTime: 10,
			rateLatencyMs: 0,
			display: { refreshHz: 60, frameRate: 30 }
		});
		for (let at = 0; at <= 1_000; at += 1000 / 60) player.observe(at);
		player.setRate(rate, 1_000);
		let shown = 0;
		for (let at = 1_000; at <= 1_000 + ms; at += 1000 / 60) {
			shown = player.observe(at).trueDisplayedMediaTime - (at + 1000 / 60) / 1000;
		}
		player.setRate(1, 1_000 + ms);
		return shown;
	}

	test('3 s at 1.0025 moves nothing on screen; 1 s at 2% moves it by a refresh or more', () => {
		const base = shownAfter(1, 3_000);
		// 7.5 ms of media clock: the display keeps its frame pattern.
		expect(Math.abs(shownAfter(1.0025, 3_000) - base)).toBeLessThan(0.002);
		expect(shownAfter(1.02, 1_000) - base).toBeGreaterThan(0.015);
	});
});
