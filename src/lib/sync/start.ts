/**
 * Starting on time (issue 6): a schedule that starts, resumes or plays on after a seek at a
 * future anchor is met by calling `play()` early by the player's play latency (the time from
 * `play()` until the displayed frames are where they should be), on a timer set through the
 * server clock, not on the next idle tick. The first frames after the anchor show how early or
 * late that was, and the latency is learned from them for the next start. Pure: the caller
 * arms the timer, calls `play()` and reports frames.
 */
import type { PlaybackSchedule } from './schedule';

/**
 * Play latency assumed before any was measured, ms: in bench:sync headless Chromium's first
 * starts measured 66–97 ms (its media clock starts ~16 ms after `play()`; the frames follow a
 * few refreshes later).
 */
export const DEFAULT_PLAY_LATENCY_MS = 70;
/** A measured latency outside 0 to this (ms) is not believed: something else happened. */
export const MAX_PLAY_LATENCY_MS = 1_000;
/** Weight of the newest measured play latency in the running estimate. */
export const PLAY_LATENCY_SMOOTHING = 0.5;
/**
 * After the anchor the start owns the player this long (ms): the controller holds, so the
 * frames shown meanwhile measure the start itself (nine frames at 30 fps).
 */
export const START_MEASURE_MS = 300;
/** The first moving frame is shown late (the pipeline filling up): it says little. */
export const START_SKIP_FRAMES = 1;
/** With fewer frames than this in the window nothing is learned (a stall at the start). */
export const START_MIN_FRAMES = 3;

/**
 * `wait`: arm a timer, `play()` in `playInMs`. `play`: the moment has come (or passed, but
 * the anchor has not): `play()` now. `none`: no future anchor, nothing to time.
 */
export type StartPlan = { kind: 'none' } | { kind: 'wait'; playInMs: number } | { kind: 'play' };

/** A start's outcome: its error at the anchor, and the latency it implied. */
export type StartReport = {
	/** Median error of the first frames (s): positive when they were behind. */
	errorS: number | undefined;
	/** The latency that would have made that error zero, ms. */
	effectiveLatencyMs: number | undefined;
	/** How late `play()` was called against the plan (a timer firing late), ms. */
	timerLateMs: number;
};

/**
 * When to call `play()` for a schedule at a server time, given the play latency: the latency
 * before the anchor, in client ms (the client and server clocks tick at the same rate to a few
 * ppm, which is nothing over the second a start is announced ahead).
 */
export function planStart(
	schedule: PlaybackSchedule | null,
	serverNowMs: number,
	playLatencyMs: number
): StartPlan {
	if (!schedule?.playing) return { kind: 'none' };
	const untilAnchorMs = schedule.anchorServerTime - serverNowMs;
	if (untilAnchorMs <= 0) return { kind: 'none' };
	const playInMs = untilAnchorMs - playLatencyMs;
	return playInMs > 0 ? { kind: 'wait', playInMs } : { kind: 'play' };
}

type Active = {
	playedAtMs: number;
	anchorAtMs: number;
	rate: number;
	timerLateMs: number;
	frames: number;
	errors: number[];
};

/** One player's starts: the latency to play ahead by, and whether a start owns the player. */
export class PlaybackStart {
	#latencyMs: number;
	#measured = false;
	#active: Active | undefined;
	#last: StartReport | undefined;

	constructor(initialLatencyMs = DEFAULT_PLAY_LATENCY_MS) {
		this.#latencyMs = initialLatencyMs;
	}

	/** The latency the next start plays ahead by, ms. */
	get playLatencyMs(): number {
		return this.#latencyMs;
	}

	/** Whether a start owns the player: `play()` was called and its first frames are measured. */
	get active(): boolean {
		return this.#active !== undefined;
	}

	/** The last finished start, for telemetry and benchmarks. */
	get lastStart(): StartReport | undefined {
		return this.#last;
	}

	/** When to play for this schedule at this server time (see `planStart`). */
	plan(schedule: PlaybackSchedule | null, serverNowMs: number): StartPlan {
		return planStart(schedule, serverNowMs, this.#latencyMs);
	}

	/**
	 * `play()` is being called at client time `playedAtMs` for the anchor at client time
	 * `anchorAtMs`, at schedule rate `rate`; `plannedAtMs` is when the plan wanted it.
	 */
	begin(playedAtMs: number, anchorAtMs: number, rate: number, plannedAtMs = playedAtMs): void {
		this.#active = {
			playedAtMs,
			anchorAtMs,
			rate,
			timerLateMs: Math.max(0, playedAtMs - plannedAtMs),
			frames: 0,
			errors: []
		};
	}

	/**
	 * A tick while a start is active: the client time it is about (a frame's display time) and,
	 * for a newly presented moving frame, its error against the schedule (s). Returns whether the
	 * start still owns the player; when it lets go, the latency has been learned.
	 */
	observe(atMs: number, errorS: number | undefined): boolean {
		const active = this.#active;
		if (!active) return false;
		if (atMs < active.anchorAtMs) return true;
		if (errorS !== undefined) {
			active.frames++;
			if (active.frames > START_SKIP_FRAMES) active.errors.push(errorS);
		}
		if (atMs < active.anchorAtMs + START_MEASURE_MS) return true;
		this.#finish(active);
		return false;
	}

	/** The schedule changed or the player was interrupted: the start is over, nothing learned. */
	cancel(): void {
		this.#active = undefined;
	}

	#finish(active: Active): void {
		this.#active = undefined;
		const errorS = medianOf(active.errors);
		let effectiveLatencyMs: number | undefined;
		if (errorS !== undefined && active.errors.length >= START_MIN_FRAMES) {
			// Had play() come `e / rate` earlier, the frames would have been on time.
			const latencyMs = active.anchorAtMs - active.playedAtMs + (errorS * 1000) / active.rate;
			if (latencyMs >= 0 && latencyMs <= MAX_PLAY_LATENCY_MS) {
				effectiveLatencyMs = latencyMs;
				this.#latencyMs = this.#measured
					? this.#latencyMs + PLAY_LATENCY_SMOOTHING * (latencyMs - this.#latencyMs)
					: latencyMs;
				this.#measured = true;
			}
		}
		this.#last = { errorS, effectiveLatencyMs, timerLateMs: active.timerLateMs };
	}
}

function medianOf(values: number[]): number | undefined {
	if (values.length === 0) return undefined;
	const sorted = [...values].sort((a, b) => a - b);
	const middle = sorted.length >> 1;
	return sorted.length % 2 === 1
		? (sorted[middle] as number)
		: ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
