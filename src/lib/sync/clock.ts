/**
 * Server clock estimation from NTP-style pings (issue 6): which samples to trust, a Kalman
 * filter over offset and drift, and an honest uncertainty. Pure and isomorphic: time comes in
 * as numbers (client ms, e.g. `performance.timeOrigin + performance.now()`, and server ms).
 */
import {
	createDriftFilter,
	innovationOf,
	predictDriftFilter,
	updateDriftFilter,
	type DriftFilter,
	type ProcessNoise
} from './kalman';

/**
 * One ping: `t0` sent and `t3` answer received on the client clock, `t1` received and `t2`
 * answered on the server clock (a `PingResult` from `client/pings.ts` fits as is).
 */
export type NtpSample = { t0: number; t1: number; t2: number; t3: number };

/**
 * Samples whose delays set the reference "minimum delay" and are re-filtered together: 32 is
 * half a minute at 1 Hz, long enough to contain a few near-minimum samples, short enough to
 * follow a route change.
 */
export const CLOCK_WINDOW_SIZE = 32;
/** Pings sent back to back at connect, so an estimate exists within a second. */
export const PING_BURST_SIZE = 8;
/** Spacing of the connect burst: far enough apart not to queue behind each other. */
export const PING_BURST_INTERVAL_MS = 75;
/** Steady ping spacing: ~100 bytes a second each way, and the window turns over every 32 s. */
export const PING_INTERVAL_MS = 1_000;
/**
 * Spacing while a synchronized video plays, where a millisecond counts: the estimate's error
 * falls with the number of near-minimum-delay samples, not with the filter's tuning (simulated
 * at 20 ± 10 ms each way, 5–65 s after connecting: p95 1.5 ms at 1 Hz, 0.95 ms at 4 Hz; the
 * gates, noise floor and window size moved it by under 0.1 ms). ~400 bytes a second each way.
 */
export const PING_FAST_INTERVAL_MS = 250;
/**
 * Noise floor of a minimum-delay sample, ms. The window's minimum is itself a few ms above the
 * path's true floor (only ~30 samples), so even a minimum-delay sample errs by about half that
 * gap; a smaller floor lets two or three lucky samples tilt the drift (measured: 1 ms gives a
 * worse p95 than 2 ms at 20 ± 10 ms jitter, 3 ms no better).
 */
export const MEASUREMENT_FLOOR_MS = 2;
/**
 * A sample whose delay exceeds the window minimum by more than this many typical excesses
 * (the median) is not used: its error bound (delay / 2) is then mostly queueing, not signal.
 */
export const DELAY_GATE_SPREADS = 4;
/** ...but never gate tighter than this, ms, so a quiet LAN does not reject its own jitter. */
export const DELAY_GATE_MIN_MS = 5;
/**
 * A sample with an above-median delay whose innovation exceeds this many standard deviations
 * is an outlier (the spike hit one direction only), not evidence.
 */
export const INNOVATION_GATE_SIGMAS = 4;
/**
 * Process noise: the offset may random-walk ~0.01 ms per √s (phase noise), the drift ~1 ppm
 * per √100 s (temperature moves a crystal by a few ppm over minutes).
 */
export const CLOCK_PROCESS_NOISE: ProcessNoise = { offsetMs2PerMs: 1e-7, driftPerMs: 1e-17 };
/**
 * Prior standard deviation of the drift, ppm. PC and phone clocks run within a few tens of ppm
 * (many are NTP-slewed to ~0); a wider prior lets the first minute's jitter pass for drift.
 */
export const INITIAL_DRIFT_PPM = 30;
/** The statistical part of the reported uncertainty, in standard deviations (~95%). */
export const UNCERTAINTY_SIGMAS = 2;
/** Server timestamps may be a hair inconsistent with ours (resolution): tolerated, ms. */
const NEGATIVE_DELAY_TOLERANCE_MS = 1;

/** What became of one sample. `reset` means it replaced an estimate it proved wrong. */
export type ClockSampleResult =
	| { ok: true; offsetMs: number; delayMs: number; reset: boolean }
	| { ok: false; reason: 'invalid' | 'out_of_order' }
	| {
			ok: false;
			/**
			 * `high_delay`: far above the window's minimum delay. `outlier`: a high-delay sample
			 * far from the estimate. `inconsistent`: a sample whose own bounds exclude the
			 * estimate; a second one in a row that agrees with it resets the filter (a stepped
			 * server clock).
			 */
			reason: 'high_delay' | 'outlier' | 'inconsistent';
			offsetMs: number;
			delayMs: number;
	  };

/** The server clock as seen from the client, at a given client time. */
export type ClockEstimate =
	| { synced: false }
	| {
			synced: true;
			/** Server clock minus client clock, ms. */
			offsetMs: number;
			/** How fast the offset grows, µs per client second (a client clock 50 ppm fast: −50). */
			driftPpm: number;
			/**
			 * A bound on |error|, ms: half the window's minimum round trip (how wrong a symmetric
			 * path assumption can be on an asymmetric path) plus two standard deviations.
			 */
			uncertaintyMs: number;
			/** The window's minimum round trip, ms. */
			minDelayMs: number;
	  };

type Entry = {
	/** Midpoint of the ping on the client clock: where its offset measurement belongs. */
	atMs: number;
	offsetMs: number;
	delayMs: number;
	/** The filter just before this entry, as of the last replay; the window's checkpoint. */
	prior: DriftFilter | undefined;
};

type DelayStats = { minDelayMs: number; spreadMs: number };

type Verdict =
	| { ok: true; filter: DriftFilter }
	| { ok: false; reason: 'high_delay' | 'outlier'; filter: DriftFilter | undefined };

/** Delay and offset of one ping, by the usual NTP formulas (the offset assumes a symmetric path). */
export function measureNtpSample(sample: NtpSample): { delayMs: number; offsetMs: number } {
	const { t0, t1, t2, t3 } = sample;
	return { delayMs: t3 - t0 - (t2 - t1), offsetMs: (t1 - t0 + (t2 - t3)) / 2 };
}

/**
 * How long to wait before the next ping, given how many were sent: a burst, then the steady
 * spacing (1 Hz unless a faster pace is asked for).
 */
export function nextPingDelayMs(samplesTaken: number, intervalMs = PING_INTERVAL_MS): number {
	return samplesTaken < PING_BURST_SIZE ? PING_BURST_INTERVAL_MS : intervalMs;
}

/**
 * Estimates the server clock from pings. Keeps the last `CLOCK_WINDOW_SIZE` samples; each
 * sample's measurement variance grows with its delay above the window's minimum (its error
 * bound is that excess / 2), so near-minimum samples carry the estimate and delay spikes are
 * gated out. Because those variances are relative to the window, every new sample re-runs the
 * window's updates from the checkpoint before it (32 small steps).
 */
export class ClockSync {
	readonly #window: Entry[] = [];
	#filter: DriftFilter | undefined;
	#stats: DelayStats = { minDelayMs: Infinity, spreadMs: 0 };
	/** The previous sample, when it contradicted the estimate. */
	#suspect: Entry | undefined;
	#accepted = 0;

	/** Samples used by the filter so far. */
	get acceptedSamples(): number {
		return this.#accepted;
	}

	/** Feeds one ping. Samples must come in the order they were sent. */
	addSample(sample: NtpSample): ClockSampleResult {
		const { t0, t1, t2, t3 } = sample;
		const { delayMs, offsetMs } = measureNtpSample(sample);
		const finite = [t0, t1, t2, t3].every(Number.isFinite);
		if (!finite || t3 < t0 || t2 < t1 || delayMs < -NEGATIVE_DELAY_TOLERANCE_MS) {
			return { ok: false, reason: 'invalid' };
		}
		const entry: Entry = {
			atMs: (t0 + t3) / 2,
			offsetMs,
			delayMs: Math.max(0, delayMs),
			prior: undefined
		};
		const last = this.#window.at(-1);
		if (last && entry.atMs < last.atMs) return { ok: false, reason: 'out_of_order' };

		if (this.#filter && this.#contradicts(this.#filter, entry)) {
			const suspect = this.#suspect;
			if (!suspect || !agree(suspect, entry)) {
				this.#suspect = entry;
				return { ok: false, reason: 'inconsistent', offsetMs, delayMs: entry.delayMs };
			}
			// Two samples in a row whose own bounds exclude the estimate: the estimate is wrong
			// (the server clock stepped), so start over from them.
			this.#window.length = 0;
			this.#filter = undefined;
			this.#window.push({ ...suspect, prior: undefined });
			this.#suspect = undefined;
			return this.#record(this.#push(entry), entry, true);
		}
		this.#suspect = undefined;
		return this.#record(this.#push(entry), entry, false);
	}

	/** The estimate at a client time; `{ synced: false }` before the first usable sample. */
	estimate(clientNowMs: number): ClockEstimate {
		const filter = this.#filter;
		if (!filter) return { synced: false };
		const projected = predictDriftFilter(filter, clientNowMs, CLOCK_PROCESS_NOISE);
		return {
			synced: true,
			// Extrapolated both ways: a caller may ask about a moment before the last sample.
			offsetMs: filter.offsetMs + filter.drift * (clientNowMs - filter.atMs),
			driftPpm: filter.drift * 1e6,
			uncertaintyMs:
				this.#stats.minDelayMs / 2 + UNCERTAINTY_SIGMAS * Math.sqrt(Math.max(0, projected.pOO)),
			minDelayMs: this.#stats.minDelayMs
		};
	}

	/** The server clock at a client time, or undefined before the first usable sample. */
	serverNow(clientNowMs: number): number | undefined {
		const estimate = this.estimate(clientNowMs);
		return estimate.synced ? clientNowMs + estimate.offsetMs : undefined;
	}

	/**
	 * Whether a sample's own bounds exclude the estimate: the true offset lies within
	 * delay / 2 of a sample's offset, and the estimate within minDelay / 2 of the truth (path
	 * asymmetry), so anything beyond both plus the estimate's own noise is a contradiction.
	 */
	#contradicts(filter: DriftFilter, entry: Entry): boolean {
		const predicted = predictDriftFilter(filter, entry.atMs, CLOCK_PROCESS_NOISE);
		const slack =
			(entry.delayMs + this.#stats.minDelayMs) / 2 +
			INNOVATION_GATE_SIGMAS * Math.sqrt(predicted.pOO) +
			MEASUREMENT_FLOOR_MS;
		return Math.abs(entry.offsetMs - predicted.offsetMs) > slack;
	}

	/** Adds an entry to the window and re-filters the window; returns the entry's verdict. */
	#push(entry: Entry): Verdict {
		this.#window.push(entry);
		if (this.#window.length > CLOCK_WINDOW_SIZE) this.#window.shift();
		this.#stats = delayStatsOf(this.#window);
		let filter = this.#window[0]?.prior;
		let verdict: Verdict | undefined;
		for (const item of this.#window) {
			item.prior = filter;
			verdict = assess(filter, item, this.#stats);
			filter = verdict.filter;
		}
		this.#filter = filter;
		// The window holds `entry` at least, so the loop ran.
		return verdict as Verdict;
	}

	#record(verdict: Verdict, entry: Entry, reset: boolean): ClockSampleResult {
		const { offsetMs, delayMs } = entry;
		if (!verdict.ok) return { ok: false, reason: verdict.reason, offsetMs, delayMs };
		this.#accepted++;
		return { ok: true, offsetMs, delayMs, reset };
	}
}

/** The window's minimum delay and its median excess over that minimum. */
function delayStatsOf(window: Entry[]): DelayStats {
	const delays = window.map((entry) => entry.delayMs).sort((a, b) => a - b);
	const minDelayMs = delays[0] ?? Infinity;
	const middle = delays.length >> 1;
	const median =
		delays.length % 2 === 1
			? (delays[middle] as number)
			: ((delays[middle - 1] as number) + (delays[middle] as number)) / 2;
	return { minDelayMs, spreadMs: median - minDelayMs };
}

/**
 * The variance of a sample's offset, ms²: if the excess delay `x` over the minimum is spread
 * across both directions, the offset error is uniform within ±x/2 (variance x² / 12).
 */
function measurementVarianceOf(excessMs: number): number {
	return MEASUREMENT_FLOOR_MS ** 2 + (excessMs * excessMs) / 12;
}

/** One filter step for one entry: gate it on delay, then on innovation, then update. */
function assess(filter: DriftFilter | undefined, entry: Entry, stats: DelayStats): Verdict {
	const excessMs = entry.delayMs - stats.minDelayMs;
	if (excessMs > Math.max(DELAY_GATE_MIN_MS, DELAY_GATE_SPREADS * stats.spreadMs)) {
		return { ok: false, reason: 'high_delay', filter };
	}
	const variance = measurementVarianceOf(excessMs);
	if (!filter) {
		const driftVariance = (INITIAL_DRIFT_PPM * 1e-6) ** 2;
		return {
			ok: true,
			filter: createDriftFilter(entry.atMs, entry.offsetMs, variance, driftVariance)
		};
	}
	const predicted = predictDriftFilter(filter, entry.atMs, CLOCK_PROCESS_NOISE);
	const { innovationMs, varianceMs2 } = innovationOf(predicted, entry.offsetMs, variance);
	const surprising = Math.abs(innovationMs) > INNOVATION_GATE_SIGMAS * Math.sqrt(varianceMs2);
	if (surprising && excessMs > stats.spreadMs) return { ok: false, reason: 'outlier', filter };
	return { ok: true, filter: updateDriftFilter(predicted, entry.offsetMs, variance) };
}

/** Whether two samples' bounds (offset ± delay / 2) overlap: both can be right at once. */
function agree(a: Entry, b: Entry): boolean {
	return Math.abs(a.offsetMs - b.offsetMs) <= (a.delayMs + b.delayMs) / 2 + MEASUREMENT_FLOOR_MS;
}
