/**
 * Small errors are absorbed by `playbackRate` (issue 6), in the way browsers actually show it:
 *
 * - A frame can only be shown on a display refresh and is held until the next frame's turn, so
 *   displayed errors come in steps: of a refresh at best, and in Chromium mostly of a whole
 *   frame period, since it keeps its frame pattern (30 fps on 60 Hz: two refreshes a frame)
 *   and mostly moves it a frame at a time (bench:sync: errors jumped 16 ↔ −18 ↔ 49 ms). So the
 *   best a player can reliably reach is within ±half a frame period of the target: within that
 *   (averaged over the last frames) the rate stays nominal. A band of half a refresh (8 ms)
 *   could not always be reached and made players correct for good: that was the hunting.
 * - Chromium's media clock stands still for 15–25 ms whenever the rate leaves nominal, and it
 *   shows small rate changes only once they add up to a refresh (measured in headless Chromium:
 *   3 s at 1.0025 moved nothing on screen). So a correction is one pulse: one rate, bounded,
 *   held for the time that moves the media by the error plus that setback, then nominal again;
 *   the next decision waits for the display to settle. Two writes per correction, not one per
 *   frame, and the setback is learned from what each pulse leaves behind.
 *
 * Pure: the controller feeds it one tick at a time.
 */

/** ±5% of speed: with pitch preserved (the browsers' default) hardly audible, 50 ms a second. */
export const RATE_BAND = 0.05;
/** Rates are multiples of this step (0.25%): a few distinct rates, easy to read in the data. */
export const RATE_STEP = 0.0025;
/**
 * Smallest pulse rate (1%): a tiny rate for long is worse than a clear one briefly, since the
 * display shows the change only in whole refreshes anyway.
 */
export const MIN_CORRECTION = 0.01;
/** A pulse aims to last about this long (ms): 1% for 10 ms of error, 5% (the band) from 50 ms. */
export const PULSE_TARGET_MS = 1_000;
/** After a pulse the display gets this long (ms) to settle before the error is judged again. */
export const PULSE_SETTLE_MS = 250;
/** The lock band, in frame intervals either side of the target: the nearest frame position. */
export const LOCK_BAND_FRAMES = 0.5;
/** Hysteresis: locked, the averaged error must leave the band by this much (ms) to correct. */
export const LOCK_EXIT_MARGIN_MS = 2.5;
/** The decisions average the errors of the ticks within this window (ms)... */
export const AVERAGING_WINDOW_MS = 250;
/** ...and of at least this many ticks, so slow (timer) ticks still average a little. */
export const AVERAGING_MIN_TICKS = 3;
/** Frame interval assumed until the caller measures one: a 30 fps video. */
export const DEFAULT_FRAME_INTERVAL_MS = 1000 / 30;
/**
 * How far the media falls behind when the rate leaves nominal, ms, until a pulse measured it:
 * a little under what headless Chromium showed (16–23 ms), so a first pulse rather falls short
 * than overshoots.
 */
export const DEFAULT_RATE_SETBACK_MS = 15;
/** The setback is never believed to exceed this (ms). */
export const MAX_RATE_SETBACK_MS = 40;
/**
 * Weight of each pulse's residual in the setback estimate: a residual is the setback's error
 * plus up to half a refresh of display quantization, so it is averaged over a few pulses.
 */
export const SETBACK_LEARNING = 0.3;
/** A residual beyond this (ms) is no measurement of the setback (a stall, a schedule change). */
const MAX_LEARNABLE_RESIDUAL_MS = 50;

export type RateSteeringOptions = {
	rateBand: number;
	rateStep: number;
	minCorrection: number;
	pulseTargetMs: number;
	pulseSettleMs: number;
	lockBandFrames: number;
	lockExitMarginMs: number;
	averagingWindowMs: number;
	initialSetbackMs: number;
};

export const DEFAULT_RATE_STEERING_OPTIONS: RateSteeringOptions = {
	rateBand: RATE_BAND,
	rateStep: RATE_STEP,
	minCorrection: MIN_CORRECTION,
	pulseTargetMs: PULSE_TARGET_MS,
	pulseSettleMs: PULSE_SETTLE_MS,
	lockBandFrames: LOCK_BAND_FRAMES,
	lockExitMarginMs: LOCK_EXIT_MARGIN_MS,
	averagingWindowMs: AVERAGING_WINDOW_MS,
	initialSetbackMs: DEFAULT_RATE_SETBACK_MS
};

export type SteeringInput = {
	/** Client clock, ms. */
	nowMs: number;
	/** Target minus displayed media time, s: positive when behind. */
	errorS: number;
	/** The schedule's rate now: nominal. */
	targetRate: number;
	/** The player's `playbackRate` as read back. */
	playerRate: number;
	/** The spacing of displayed frames, ms (`estimateFrameIntervalMs`); 30 fps when left out. */
	frameIntervalMs?: number;
};

/** `rate`: write this `playbackRate` now (undefined: leave it). */
export type SteeringOutput = { rate: number | undefined; phase: 'locked' | 'correcting' };

type Pulse = {
	endsAtMs: number;
	/** Whether the pulse is a full one, whose residual measures the setback. */
	learns: boolean;
};

/** Rate steering of one player: a lock band, and pulses to get back into it. */
export class RateSteering {
	readonly #options: RateSteeringOptions;
	readonly #recent: { atMs: number; errorS: number }[] = [];
	/** When the window's first tick came (the window fills from there). */
	#windowStartMs = -Infinity;
	#locked = false;
	#pulse: Pulse | undefined;
	#settleUntilMs = -Infinity;
	/** A finished full pulse whose residual has not been judged yet. */
	#awaitingResidual = false;
	#setbackMs: number;
	#pulses = 0;
	#lastTickMs: number | undefined;
	/** The latest spacing of ticks, ms: a pulse ends on the tick nearest its end. */
	#tickMs = 0;

	constructor(options: Partial<RateSteeringOptions> = {}) {
		this.#options = { ...DEFAULT_RATE_STEERING_OPTIONS, ...options };
		this.#setbackMs = this.#options.initialSetbackMs;
	}

	/** Whether the player sits on the frame position nearest the target, at the nominal rate. */
	get locked(): boolean {
		return this.#locked;
	}

	/** The setback the next pulse allows for, ms. */
	get setbackMs(): number {
		return this.#setbackMs;
	}

	/** Pulses started so far. */
	get pulses(): number {
		return this.#pulses;
	}

	/** One tick of a player that plays on its own (not seeking, stalled or paused). */
	update(input: SteeringInput): SteeringOutput {
		const o = this.#options;
		const { nowMs, targetRate, playerRate } = input;
		if (this.#lastTickMs !== undefined && nowMs > this.#lastTickMs) {
			this.#tickMs = nowMs - this.#lastTickMs;
		}
		this.#lastTickMs = nowMs;
		const nominal = (): SteeringOutput => ({
			rate: Math.abs(playerRate - targetRate) > 1e-9 ? targetRate : undefined,
			phase: this.#locked ? 'locked' : 'correcting'
		});

		if (this.#pulse) {
			// Ticks come every frame (or every timer tick): end on the one nearest the end.
			if (nowMs < this.#pulse.endsAtMs - this.#tickMs / 2) {
				return { rate: undefined, phase: 'correcting' };
			}
			this.#awaitingResidual = this.#pulse.learns;
			this.#pulse = undefined;
			this.#settleUntilMs = nowMs + o.pulseSettleMs;
			this.#recent.length = 0;
			return nominal();
		}
		if (nowMs < this.#settleUntilMs) return nominal();

		const averageS = this.#average(nowMs, input.errorS);
		if (averageS === undefined) return nominal();
		if (this.#awaitingResidual) {
			this.#awaitingResidual = false;
			this.#learnSetback(averageS);
		}
		const frameS = (input.frameIntervalMs ?? DEFAULT_FRAME_INTERVAL_MS) / 1000;
		const bandS = o.lockBandFrames * frameS + (this.#locked ? o.lockExitMarginMs / 1000 : 0);
		this.#locked = Math.abs(averageS) <= bandS;
		if (this.#locked) return nominal();
		return { rate: this.#startPulse(nowMs, averageS, targetRate), phase: 'correcting' };
	}

	/**
	 * The player stopped playing on its own (a seek, a stall, a pause): forget the window and
	 * any pulse. The caller sets the nominal rate again (a seek does).
	 */
	reset(): void {
		this.#recent.length = 0;
		this.#locked = false;
		this.#pulse = undefined;
		this.#settleUntilMs = -Infinity;
		this.#awaitingResidual = false;
	}

	/**
	 * A pulse removing `errorS`: behind, speed up by the error plus the setback; ahead, the
	 * setback already takes some back, so slow down only for the rest (or just touch the rate,
	 * for the setback alone). Returns the pulse's rate.
	 */
	#startPulse(nowMs: number, errorS: number, targetRate: number): number {
		const o = this.#options;
		const setbackS = this.#setbackMs / 1000;
		const direction = errorS > 0 ? 1 : -1;
		const amountS = errorS > 0 ? errorS + setbackS : Math.max(0, -errorS - setbackS);
		const wanted = (amountS * 1000) / o.pulseTargetMs;
		const size = Math.min(o.rateBand, Math.max(o.minCorrection, wanted));
		const stepped = Math.max(o.rateStep, Math.round(size / o.rateStep) * o.rateStep);
		const durationMs = (amountS / stepped) * 1000;
		this.#pulse = { endsAtMs: nowMs + durationMs, learns: amountS > 0 };
		this.#recent.length = 0;
		this.#pulses++;
		return targetRate * (1 + direction * stepped);
	}

	/**
	 * Had the setback been exactly what the pulse allowed for, nothing would be left: whatever
	 * is left (positive: still behind) is the setback's error, either direction.
	 */
	#learnSetback(residualS: number): void {
		const residualMs = residualS * 1000;
		if (Math.abs(residualMs) > MAX_LEARNABLE_RESIDUAL_MS) return;
		const next = this.#setbackMs + SETBACK_LEARNING * residualMs;
		this.#setbackMs = Math.max(0, Math.min(MAX_RATE_SETBACK_MS, next));
	}

	/** Adds this tick's error; the mean over the window once it spans it, else undefined. */
	#average(nowMs: number, errorS: number): number | undefined {
		const recent = this.#recent;
		if (recent.length === 0) this.#windowStartMs = nowMs;
		recent.push({ atMs: nowMs, errorS });
		const from = nowMs - this.#options.averagingWindowMs;
		while (recent.length > AVERAGING_MIN_TICKS && (recent[0] as { atMs: number }).atMs < from) {
			recent.shift();
		}
		if (recent.length < AVERAGING_MIN_TICKS || this.#windowStartMs > from) return undefined;
		return recent.reduce((sum, item) => sum + item.errorS, 0) / recent.length;
	}
}
