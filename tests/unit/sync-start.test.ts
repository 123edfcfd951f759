import { describe, expect, test } from 'bun:test';
import { simulatePlayback, type PlaybackTrace } from '../../src/lib/sync/playback-simulation';
import { playAt, seekTo, type PlaybackSchedule } from '../../src/lib/sync/schedule';
import {
	DEFAULT_PLAY_LATENCY_MS,
	planStart,
	PlaybackStart,
	START_MEASURE_MS
} from '../../src/lib/sync/start';

const T0 = 1_700_000_000_000;
const schedule: PlaybackSchedule = {
	mediaId: 'clip',
	playing: true,
	anchorMediaTime: 0,
	anchorServerTime: T0 + 1_000,
	rate: 1
};

describe('planStart: when to call play()', () => {
	test('a future anchor: wait until the anchor minus the play latency', () => {
		expect(planStart(schedule, T0, 70)).toEqual({ kind: 'wait', playInMs: 930 });
		expect(planStart(schedule, T0 + 900, 70)).toEqual({ kind: 'wait', playInMs: 30 });
	});

	test('inside the pre-roll (less than the latency before the anchor): play now', () => {
		expect(planStart(schedule, T0 + 930, 70)).toEqual({ kind: 'play' });
		expect(planStart(schedule, T0 + 999, 70)).toEqual({ kind: 'play' });
	});

	test('no future anchor: nothing to time (paused, none yet, or already running)', () => {
		expect(planStart(null, T0, 70)).toEqual({ kind: 'none' });
		expect(planStart({ ...schedule, playing: false }, T0, 70)).toEqual({ kind: 'none' });
		expect(planStart(schedule, T0 + 1_000, 70)).toEqual({ kind: 'none' });
		expect(planStart(schedule, T0 + 5_000, 70)).toEqual({ kind: 'none' });
	});
});

describe('PlaybackStart: learning the play latency', () => {
	/** A start: play() at `playedAtMs`, anchor at 1000, then frames every 33 ms with `errorS`. */
	function runStart(
		start: PlaybackStart,
		playedAtMs: number,
		errorS: number,
		plannedAtMs?: number
	) {
		start.begin(playedAtMs, 1_000, 1, plannedAtMs);
		let owned = true;
		for (let at = playedAtMs; owned; at += 33) owned = start.observe(at, errorS);
		return start.lastStart;
	}

	test('owns the player from play() until the first frames after the anchor are measured', () => {
		const start = new PlaybackStart(50);
		start.begin(950, 1_000, 1);
		expect(start.active).toBe(true);
		expect(start.observe(980, -0.01)).toBe(true); // pre-roll: before the anchor
		expect(start.observe(1_000 + START_MEASURE_MS - 1, 0.02)).toBe(true);
		expect(start.observe(1_000 + START_MEASURE_MS, 0.02)).toBe(false);
		expect(start.active).toBe(false);
	});

	test('frames behind after the anchor: play() should have come earlier by that much', () => {
		const start = new PlaybackStart(50);
		// play() 50 ms ahead, the frames 30 ms behind: the real latency is 80 ms.
		const report = runStart(start, 950, 0.03);
		expect(report?.effectiveLatencyMs).toBeCloseTo(80, 6);
		expect(start.playLatencyMs).toBeCloseTo(80, 6);
		// Ahead by 10 ms the next time: halfway there (smoothing).
		runStart(start, 920, -0.01);
		expect(start.playLatencyMs).toBeCloseTo(75, 6);
	});

	test('a timer firing late is not learned as latency: the error is measured from the real play()', () => {
		const start = new PlaybackStart(50);
		// Planned at 950, fired at 970; frames 20 ms behind: the latency was 50 ms after all.
		const report = runStart(start, 970, 0.02, 950);
		expect(report?.timerLateMs).toBe(20);
		expect(start.playLatencyMs).toBeCloseTo(50, 6);
	});

	test('no frames (a stall at the start) or absurd errors teach nothing', () => {
		const start = new PlaybackStart(50);
		start.begin(950, 1_000, 1);
		expect(start.observe(1_000, undefined)).toBe(true);
		expect(start.observe(1_000 + START_MEASURE_MS, undefined)).toBe(false);
		expect(start.playLatencyMs).toBe(50);
		runStart(start, 950, 2); // two seconds behind: something else happened
		expect(start.playLatencyMs).toBe(50);
	});

	test('cancel: a new schedule arrived, the start is over and nothing is learned', () => {
		const start = new PlaybackStart(50);
		start.begin(950, 1_000, 1);
		start.cancel();
		expect(start.active).toBe(false);
		expect(start.observe(1_400, 0.05)).toBe(false);
		expect(start.playLatencyMs).toBe(50);
	});
});

describe('timed starts in the simulation (60 Hz display, 30 fps video)', () => {
	const display = { refreshHz: 60, frameRate: 30, phaseMs: 5 };
	const startsAt = (trace: PlaybackTrace, fromMs: number) =>
		trace.ticks.filter((tick) => tick.atMs >= fromMs && !tick.starting);

	/** A start 1 s after the schedule arrives, then a seek (paused, then playing on) at 10 s. */
	function run(playLatencyMs: number, seed = 1) {
		return simulatePlayback({
			seed,
			durationMs: 20_000,
			initialErrorS: 0,
			schedule: { ...schedule, anchorServerTime: 0 },
			anchorInMs: 1_000,
			player: { paused: true, playLatencyMs, display, rateSetbackMs: 18 },
			scheduleChanges: [{ atMs: 10_000, change: (current, now) => seekTo(current, 3, now + 1_000) }]
		});
	}

	test('play() is called the play latency before the anchor, on a timer', () => {
		const trace = run(DEFAULT_PLAY_LATENCY_MS);
		expect(trace.playTimesMs[0]).toBeCloseTo(1_000 - DEFAULT_PLAY_LATENCY_MS, 0);
		expect(trace.playTimesMs).toHaveLength(2);
	});

	test('a latency as assumed: on time from the first frame, no correction at all', () => {
		const trace = run(DEFAULT_PLAY_LATENCY_MS);
		const first = startsAt(trace, 1_000)[0];
		expect(Math.abs(first?.trueErrorS ?? Infinity)).toBeLessThan(0.017);
		expect(trace.rateWrites).toBe(0);
		expect(trace.seekTimesMs.length).toBeLessThanOrEqual(1); // the invisible one, paused
	});

	test('a slower player: the first start is late, the second is on time (learned)', () => {
		for (const seed of [1, 2, 3]) {
			const trace = run(DEFAULT_PLAY_LATENCY_MS + 60, seed);
			const firstError = startsAt(trace, 1_000)[0]?.trueErrorS ?? 0;
			expect(firstError).toBeGreaterThan(0.04); // ~60 ms behind
			expect(Math.abs(trace.start.playLatencyMs - (DEFAULT_PLAY_LATENCY_MS + 60))).toBeLessThan(17);
			const afterSeek = startsAt(trace, 11_000)[0]?.trueErrorS ?? Infinity;
			expect(Math.abs(afterSeek)).toBeLessThan(0.017);
			// The remainder of the first start is closed by rate, never by a seek while playing.
			expect(trace.seekTimesMs.every((at) => at >= 10_000 && at < 11_000)).toBe(true);
		}
	});

	test('the start replaces the idle tick: a play-at-T resume lands within a frame', () => {
		const trace = simulatePlayback({
			seed: 4,
			durationMs: 8_000,
			initialErrorS: 0,
			player: { playLatencyMs: DEFAULT_PLAY_LATENCY_MS, display, rateSetbackMs: 18 },
			scheduleChanges: [
				{
					atMs: 1_000,
					change: (current, now) => ({ ...current, playing: false, anchorServerTime: now })
				},
				{ atMs: 3_000, change: (current, now) => playAt(current, now + 1_000) }
			]
		});
		const resumed = startsAt(trace, 4_000).filter((tick) => tick.phase !== 'idle');
		expect(Math.abs(resumed[0]?.trueErrorS ?? Infinity)).toBeLessThan(0.017);
	});
});
