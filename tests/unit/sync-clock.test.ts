import { describe, expect, test } from 'bun:test';
import {
	ClockSync,
	CLOCK_WINDOW_SIZE,
	measureNtpSample,
	nextPingDelayMs,
	PING_BURST_SIZE,
	PING_FAST_INTERVAL_MS,
	PING_INTERVAL_MS,
	type NtpSample
} from '../../src/lib/sync/clock';
import {
	createDriftFilter,
	predictDriftFilter,
	updateDriftFilter
} from '../../src/lib/sync/kalman';
import {
	SimulatedClientClock,
	SimulatedLink,
	simulatePing,
	type LinkOptions
} from '../../src/lib/sync/simulation';

const START = 1_700_000_000_000;
const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);
/** 20 ± 10 ms each way, uniformly anywhere in the range: the flattest (hardest) symmetric jitter. */
const JITTERY = { baseMs: 20, jitterMs: 10 };

type Run = {
	link: Omit<LinkOptions, 'seed'>;
	driftPpm?: number;
	/** When to grade the estimate, s after the first ping. */
	checkpoints: number[];
	/** Also grade after every sample from this many s on. */
	gradeFromS?: number;
	/** Steady ping spacing, ms (1 Hz by default). */
	intervalMs?: number;
};

type Grade = { atS: number; errorMs: number; uncertaintyMs: number; driftPpm: number };

/** Pings on the burst-then-1 Hz schedule; grades the estimate against the true offset. */
function runClock(seed: number, run: Run) {
	const link = new SimulatedLink({ seed, ...run.link });
	const clock = new SimulatedClientClock({
		offsetMs: 5_000 * Math.sin(seed), // any offset, far from zero
		driftPpm: run.driftPpm ?? 0,
		startServerMs: START,
		resolutionMs: 0.1
	});
	const sync = new ClockSync();
	const grade = (clientMs: number): Grade => {
		const estimate = sync.estimate(clientMs);
		if (!estimate.synced) throw new Error('not synced');
		return {
			atS: (clock.serverAt(clientMs) - START) / 1000,
			errorMs: estimate.offsetMs - clock.offsetAt(clientMs),
			uncertaintyMs: estimate.uncertaintyMs,
			driftPpm: estimate.driftPpm
		};
	};
	const atCheckpoints: Grade[] = [];
	const continuous: Grade[] = [];
	const rejected: Record<string, number> = {};
	let serverMs = START;
	let sent = 0;
	for (const checkpoint of run.checkpoints) {
		while (serverMs < START + checkpoint * 1000) {
			const { sample } = simulatePing(link, clock, serverMs);
			const result = sync.addSample(sample);
			if (!result.ok) rejected[result.reason] = (rejected[result.reason] ?? 0) + 1;
			serverMs += nextPingDelayMs(++sent, run.intervalMs);
			if (run.gradeFromS !== undefined && serverMs >= START + run.gradeFromS * 1000) {
				continuous.push(grade(clock.clientAt(serverMs)));
			}
		}
		atCheckpoints.push(grade(clock.clientAt(serverMs)));
	}
	return { atCheckpoints, continuous, rejected };
}

function quantile(values: number[], q: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const absErrors = (grades: Grade[]) => grades.map((g) => Math.abs(g.errorMs));

describe('NTP samples', () => {
	test('delay and offset by the four timestamps', () => {
		// Client 1000 ms behind the server; 30 ms up, 2 ms at the server, 10 ms down.
		const sample: NtpSample = { t0: 0, t1: 1_030, t2: 1_032, t3: 42 };
		expect(measureNtpSample(sample)).toEqual({ delayMs: 40, offsetMs: 1_010 });
	});

	test('a burst at connect, then 1 Hz', () => {
		const delays = Array.from({ length: 12 }, (_, i) => nextPingDelayMs(i));
		expect(delays.slice(0, PING_BURST_SIZE).every((d) => d >= 50 && d <= 100)).toBe(true);
		expect(delays.slice(PING_BURST_SIZE)).toEqual([1_000, 1_000, 1_000, 1_000]);
		expect(PING_INTERVAL_MS).toBe(1_000);
	});
});

describe('ClockSync basics', () => {
	test('not synced before any sample', () => {
		const sync = new ClockSync();
		expect(sync.estimate(123)).toEqual({ synced: false });
		expect(sync.serverNow(123)).toBeUndefined();
	});

	test('one sample: its offset, with at least half its round trip as uncertainty', () => {
		const sync = new ClockSync();
		const result = sync.addSample({ t0: 0, t1: 1_030, t2: 1_032, t3: 42 });
		expect(result).toEqual({ ok: true, offsetMs: 1_010, delayMs: 40, reset: false });
		const estimate = sync.estimate(42);
		expect(estimate.synced).toBe(true);
		if (!estimate.synced) return;
		expect(estimate.offsetMs).toBe(1_010);
		expect(estimate.uncertaintyMs).toBeGreaterThanOrEqual(20);
		expect(sync.serverNow(100)).toBe(1_110);
	});

	test('refuses impossible and out-of-order samples', () => {
		const sync = new ClockSync();
		expect(sync.addSample({ t0: Number.NaN, t1: 0, t2: 0, t3: 0 })).toEqual({
			ok: false,
			reason: 'invalid'
		});
		expect(sync.addSample({ t0: 10, t1: 0, t2: 0, t3: 5 })).toMatchObject({ reason: 'invalid' });
		expect(sync.addSample({ t0: 0, t1: 100, t2: 50, t3: 5 })).toMatchObject({ reason: 'invalid' });
		expect(sync.addSample({ t0: 1_000, t1: 1_010, t2: 1_010, t3: 1_020 }).ok).toBe(true);
		expect(sync.addSample({ t0: 900, t1: 910, t2: 910, t3: 920 })).toMatchObject({
			reason: 'out_of_order'
		});
	});
});

describe('ClockSync against the truth', () => {
	// Measured (200 seeds, uniform 20 ± 10 ms): p95 ≈ 1.4–1.6 ms at 30 s, ≈ 0.9 ms at 5 min.
	// The issue hoped for 1 ms at 30 s; with the drift unknown (±30 ppm) 30 samples of this
	// jitter do not get there, so the claim is checked where it holds.
	test('symmetric jitter: p95 error ≤ 2 ms after 30 s, ≤ 1 ms after 5 min', () => {
		const runs = SEEDS.map((seed) =>
			runClock(seed, {
				link: { up: JITTERY, down: JITTERY },
				driftPpm: 30 * Math.cos(seed),
				checkpoints: [30, 300]
			})
		);
		const at30 = absErrors(runs.map((r) => r.atCheckpoints[0] as Grade));
		const at300 = absErrors(runs.map((r) => r.atCheckpoints[1] as Grade));
		expect(quantile(at30, 0.5)).toBeLessThanOrEqual(0.8);
		expect(quantile(at30, 0.95)).toBeLessThanOrEqual(2);
		expect(quantile(at300, 0.95)).toBeLessThanOrEqual(1);
		expect(Math.max(...at300)).toBeLessThanOrEqual(2);
	});

	// Measured (200 seeds, 5–65 s after connecting, as bench:sync grades it): p95 1.5 ms at
	// 1 Hz, 0.95 ms at 4 Hz; gates, noise floor and window size moved it by under 0.1 ms.
	test('at the fast pace a video asks for: p95 error ≤ 1 ms from 5 s after connecting', () => {
		const errors = (intervalMs: number) =>
			absErrors(
				SEEDS.flatMap(
					(seed) =>
						runClock(seed, {
							link: { up: JITTERY, down: JITTERY },
							driftPpm: 30 * Math.cos(seed),
							checkpoints: [65],
							gradeFromS: 5,
							intervalMs
						}).continuous
				)
			);
		const fast = errors(PING_FAST_INTERVAL_MS);
		expect(quantile(fast, 0.95)).toBeLessThanOrEqual(1);
		expect(quantile(errors(PING_INTERVAL_MS), 0.95)).toBeGreaterThan(quantile(fast, 0.95) * 1.3);
	});

	test('delay spikes (5% of pings, +200–500 ms) are rejected and do not move the estimate', () => {
		const spiky = (seed: number, spikes: boolean) =>
			runClock(seed, {
				link: {
					up: JITTERY,
					down: JITTERY,
					spikes: spikes ? { probability: 0.05, minMs: 200, maxMs: 500 } : undefined
				},
				checkpoints: [30, 120],
				gradeFromS: 10
			});
		const runs = SEEDS.map((seed) => spiky(seed, true));
		const errors = absErrors(runs.flatMap((r) => r.continuous));
		expect(quantile(errors, 0.95)).toBeLessThanOrEqual(2);
		expect(Math.max(...errors)).toBeLessThanOrEqual(4);
		const rejected = runs.reduce((sum, r) => sum + (r.rejected.high_delay ?? 0), 0);
		// ~128 pings a run, 5% spiked: about 6 a run, nearly all caught by the delay gate.
		expect(rejected / runs.length).toBeGreaterThanOrEqual(5);
	});

	test('one spike into a settled estimate moves it by less than 0.1 ms', () => {
		const sync = new ClockSync();
		let t = 0;
		const ping = (upMs: number, downMs: number) => {
			// The server is 500 ms ahead.
			const sample = { t0: t, t1: t + upMs + 500, t2: t + upMs + 500, t3: t + upMs + downMs };
			t += 1_000;
			return sync.addSample(sample);
		};
		for (let i = 0; i < 40; i++) ping(20 + (i % 5), 20 + ((i * 3) % 5));
		const before = sync.estimate(t);
		const spike = ping(420, 20); // 400 ms stuck in one direction: a 200 ms offset error
		expect(spike).toMatchObject({ ok: false, reason: 'high_delay' });
		const after = sync.estimate(t);
		if (!before.synced || !after.synced) throw new Error('not synced');
		expect(Math.abs(after.offsetMs - before.offsetMs)).toBeLessThan(0.1);
	});

	test('asymmetric path: biased by exactly (up − down) / 2, and the uncertainty says so', () => {
		const runs = SEEDS.slice(0, 100).map((seed) =>
			runClock(seed, {
				link: { up: { baseMs: 30, jitterMs: 5 }, down: { baseMs: 10, jitterMs: 5 } },
				checkpoints: [30, 120],
				gradeFromS: 2
			})
		);
		const grades = runs.flatMap((r) => r.continuous);
		// The symmetric-path assumption reads 30 up / 10 down as a clock 10 ms ahead: no
		// client can see this, so it must be within the uncertainty it reports.
		const biasErrors = grades.map((g) => Math.abs(g.errorMs - 10));
		expect(quantile(biasErrors, 0.95)).toBeLessThanOrEqual(1.5);
		for (const grade of grades) {
			expect(grade.uncertaintyMs).toBeGreaterThanOrEqual(Math.abs(grade.errorMs));
		}
	});

	test('honest uncertainty under symmetric jitter too', () => {
		const grades = SEEDS.slice(0, 50).flatMap(
			(seed) =>
				runClock(seed, {
					link: { up: JITTERY, down: JITTERY },
					driftPpm: 40,
					checkpoints: [60],
					gradeFromS: 0
				}).continuous
		);
		for (const grade of grades) {
			expect(grade.uncertaintyMs).toBeGreaterThanOrEqual(Math.abs(grade.errorMs));
		}
	});

	test('a client clock 50 ppm fast is tracked over 10 minutes', () => {
		const runs = SEEDS.slice(0, 50).map((seed) =>
			runClock(seed, {
				link: { up: JITTERY, down: JITTERY },
				driftPpm: 50,
				checkpoints: [600],
				gradeFromS: 60
			})
		);
		// The offset moves 30 ms over the run; the estimate follows it within a millisecond or so
		// (measured, 200 seeds: p95 1.7 ms in the 2nd minute, 0.7–0.9 ms from the 5th on).
		const grades = runs.flatMap((r) => r.continuous);
		const errors = absErrors(grades);
		expect(quantile(errors, 0.95)).toBeLessThanOrEqual(1.5);
		expect(Math.max(...errors)).toBeLessThanOrEqual(4);
		const settled = absErrors(grades.filter((g) => g.atS >= 240));
		expect(quantile(settled, 0.95)).toBeLessThanOrEqual(1);
		expect(Math.max(...settled)).toBeLessThanOrEqual(2);
		for (const run of runs) {
			const final = run.atCheckpoints[0] as Grade;
			// The offset (server − client) shrinks 50 µs per second.
			expect(Math.abs(final.driftPpm + 50)).toBeLessThanOrEqual(4);
			expect(Math.abs(final.errorMs)).toBeLessThanOrEqual(2);
		}
	});

	test('a stepped server clock: two agreeing contradictions reset the estimate', () => {
		const sync = new ClockSync();
		let offset = 500;
		let t = 0;
		const ping = () => {
			const sample = { t0: t, t1: t + 20 + offset, t2: t + 20 + offset, t3: t + 40 };
			t += 1_000;
			return sync.addSample(sample);
		};
		for (let i = 0; i < 20; i++) ping();
		offset = 2_500; // the server's clock jumped 2 s
		expect(ping()).toMatchObject({ ok: false, reason: 'inconsistent' });
		expect(ping()).toMatchObject({ ok: true, reset: true });
		const estimate = sync.estimate(t);
		if (!estimate.synced) throw new Error('not synced');
		expect(Math.abs(estimate.offsetMs - 2_500)).toBeLessThan(1);
	});

	test('a route that gets slower for good is accepted again within a window', () => {
		const sync = new ClockSync();
		let t = 0;
		let extra = 0;
		const ping = (i: number) => {
			const up = 20 + extra + (i % 4);
			const down = 20 + extra + ((i * 3) % 4);
			const sample = { t0: t, t1: t + up + 500, t2: t + up + 500, t3: t + up + down };
			t += 1_000;
			return sync.addSample(sample);
		};
		for (let i = 0; i < 40; i++) ping(i);
		extra = 60; // a new route: +60 ms each way
		const results = Array.from({ length: CLOCK_WINDOW_SIZE }, (_, i) => ping(i));
		expect(results[0]).toMatchObject({ ok: false, reason: 'high_delay' });
		expect(results.at(-1)?.ok).toBe(true);
		const estimate = sync.estimate(t);
		if (!estimate.synced) throw new Error('not synced');
		expect(Math.abs(estimate.offsetMs - 500)).toBeLessThan(2);
	});
});

describe('drift Kalman filter', () => {
	test('prediction carries the offset along the drift and grows the variance', () => {
		const filter = { ...createDriftFilter(0, 10, 1, 1e-10), drift: 1e-4 };
		const later = predictDriftFilter(filter, 1_000, { offsetMs2PerMs: 0, driftPerMs: 0 });
		expect(later.offsetMs).toBeCloseTo(10.1, 12);
		expect(later.pOO).toBeCloseTo(1 + 1e6 * 1e-10, 12);
		expect(predictDriftFilter(filter, -5, { offsetMs2PerMs: 1, driftPerMs: 1 })).toBe(filter);
	});

	test('an update moves the offset by the variance-weighted share of the innovation', () => {
		const filter = createDriftFilter(0, 10, 4, 1e-10);
		const updated = updateDriftFilter(filter, 20, 4);
		expect(updated.offsetMs).toBe(15);
		expect(updated.pOO).toBe(2);
	});

	test('learns a drift from noiseless measurements', () => {
		const noise = { offsetMs2PerMs: 0, driftPerMs: 0 };
		let filter = createDriftFilter(0, 0, 0.01, 1e-8);
		for (let t = 1_000; t <= 60_000; t += 1_000) {
			filter = updateDriftFilter(predictDriftFilter(filter, t, noise), t * 2e-5, 0.01);
		}
		expect(filter.drift * 1e6).toBeCloseTo(20, 1);
	});
});
