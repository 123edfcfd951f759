/**
 * A seeded `<video>`-like player on virtual time, for tests and benchmarks: a media clock that
 * follows rate writes after a latency (and stands still a moment when the rate leaves 1, as
 * Chromium's does), seeks that take time, buffering, a play latency, and optionally a display
 * that shows frames only on its refreshes. Pure: no timers, the caller moves time forward.
 */
import { createSeededRandom } from '../signals/synthetic';

export type PlayerOptions = {
	seed: number;
	/** Client time (ms) the player is created at, and its media position (s) then. */
	startAtMs: number;
	startMediaTime: number;
	paused?: boolean;
	/** How long a `playbackRate` write takes to reach the media clock, ms. */
	rateLatencyMs?: number;
	/** Each seek takes a uniform draw from this range, ms, reporting `seeking` meanwhile. */
	seekLatencyMs?: { min: number; max: number };
	/** After each seek the player buffers this long, ms (a seek into unbuffered media). */
	bufferAfterSeekMs?: number;
	/** Buffering episodes (client ms): the media stands still and the player reports `waiting`. */
	stalls?: { atMs: number; durationMs: number }[];
	/**
	 * A frame reported now is displayed this much later, ms (the next vsync). Its media time is
	 * where the media will be then; matching it against the target of now is off by this much.
	 */
	displayDelayMs?: number;
	/** How far the media clock runs from the client clock (audio hardware), ppm. */
	mediaClockPpm?: number;
	/** Uniform noise of ± this many ms on the reported media time (frame timing). */
	measurementNoiseMs?: number;
	/** After `play()` the media clock stands still this long, ms (the pipeline starting). */
	playLatencyMs?: number;
	/**
	 * When the rate leaves 1, the media clock stands still this long, ms, without reporting
	 * `waiting` (Chromium's time-stretcher starting: 16–23 ms measured headless).
	 */
	rateSetbackMs?: number;
	/** Frames shown on display refreshes, as a browser does (see `DisplayOptions`). */
	display?: DisplayOptions;
	durationS?: number;
};

/**
 * A display that shows frames only on its refreshes, as Chromium's compositor does: each
 * refresh shows the frame covering the middle of its interval, and at the nominal rate the
 * frame pattern (cadence) is kept while it stays within `cadenceToleranceMs` of the media
 * clock, so small rate changes reach the screen late and in whole refreshes.
 */
export type DisplayOptions = {
	refreshHz: number;
	/** The video's frame rate (frames at multiples of 1 / frameRate s). */
	frameRate: number;
	/** Where the refresh grid sits, ms (refreshes at phaseMs + k / refreshHz). */
	phaseMs?: number;
	/** How far the kept pattern may drift from the media clock, ms; a refresh by default. */
	cadenceToleranceMs?: number;
};

/** What a player reports on one tick (as `requestVideoFrameCallback` would). */
export type PlayerObservation = {
	/**
	 * With a `display`: whether this refresh shows a new frame (a `requestVideoFrameCallback`
	 * would fire); when not, the media time is the media clock (`currentTime`), read now.
	 * Always true without a display.
	 */
	presented: boolean;
	/** Media time of the frame about to be displayed, s (with measurement noise). */
	displayedMediaTime: number;
	/** Client time that frame is displayed at, ms. */
	displayedAtMs: number;
	/** The truth, without the noise: what a participant actually sees then. */
	trueDisplayedMediaTime: number;
	state: { seeking: boolean; waiting: boolean; paused: boolean; rate: number };
};

/**
 * A `<video>`-like player on virtual time: a media clock that advances at its rate (which
 * follows a write after a latency), seeks that take time, buffering episodes.
 */
export class SimulatedPlayer {
	readonly #options: PlayerOptions;
	readonly #random: () => number;
	readonly #stalls: { atMs: number; durationMs: number }[];
	#nextStall = 0;
	#atMs: number;
	#media: number;
	#paused: boolean;
	/** The rate the media clock actually runs at. */
	#rate = 1;
	/** The rate last written (what `playbackRate` reads back). */
	#commandedRate = 1;
	#pendingRates: { atMs: number; rate: number }[] = [];
	#seekingUntil: number | undefined;
	#bufferingUntil: number | undefined;
	/** After a `play()`, the media clock starts moving at this client time. */
	#startsAtMs: number | undefined;
	/** A rate change's silent setback: the media clock stands still until then. */
	#setbackUntilMs: number | undefined;
	#seeks = 0;
	/** The display's kept frame pattern: the media time it shows at a client time, at rate 1. */
	#cadence: { atMs: number; media: number } | undefined;
	#lastFrame: number | undefined;

	constructor(options: PlayerOptions) {
		this.#options = options;
		this.#random = createSeededRandom(options.seed);
		this.#stalls = [...(options.stalls ?? [])].sort((a, b) => a.atMs - b.atMs);
		this.#atMs = options.startAtMs;
		this.#media = options.startMediaTime;
		this.#paused = options.paused ?? false;
	}

	/** Seeks performed so far. */
	get seeks(): number {
		return this.#seeks;
	}

	/** Writes `playbackRate`; the media clock follows after the rate latency. */
	setRate(rate: number, nowMs: number): void {
		this.#advanceTo(nowMs);
		this.#commandedRate = rate;
		this.#pendingRates.push({ atMs: nowMs + (this.#options.rateLatencyMs ?? 50), rate });
	}

	/** Sets `currentTime`: seeking for a while, then playing from there. */
	seek(to: number, nowMs: number): void {
		this.#advanceTo(nowMs);
		const { min, max } = this.#options.seekLatencyMs ?? { min: 50, max: 300 };
		this.#media = this.#clampMedia(to);
		this.#seekingUntil = nowMs + min + (max - min) * this.#random();
		this.#bufferingUntil = undefined;
		this.#seeks++;
	}

	play(nowMs: number): void {
		this.#advanceTo(nowMs);
		if (!this.#paused) return;
		this.#paused = false;
		const latencyMs = this.#options.playLatencyMs ?? 0;
		this.#startsAtMs = latencyMs > 0 ? nowMs + latencyMs : undefined;
	}

	pause(nowMs: number): void {
		this.#advanceTo(nowMs);
		this.#paused = true;
		this.#startsAtMs = undefined;
	}

	/** The media clock now, s: what `currentTime` reads. */
	currentTime(nowMs: number): number {
		this.#advanceTo(nowMs);
		return this.#media;
	}

	/** The player's report at a client time. */
	observe(nowMs: number): PlayerObservation {
		this.#advanceTo(nowMs);
		const state = {
			seeking: this.#seekingUntil !== undefined,
			waiting: this.#bufferingUntil !== undefined,
			paused: this.#paused,
			rate: this.#commandedRate
		};
		const noiseMs = (this.#options.measurementNoiseMs ?? 0) * (2 * this.#random() - 1);
		const display = this.#options.display;
		if (display) {
			const { atMs, media, presented } = this.#presentOnRefresh(display, nowMs);
			return {
				presented,
				displayedMediaTime: media + noiseMs / 1000,
				displayedAtMs: atMs,
				trueDisplayedMediaTime: media,
				state
			};
		}
		const delayMs = this.#options.displayDelayMs ?? 16;
		const ahead = this.#advancing() ? (this.#effectiveRate() * delayMs) / 1000 : 0;
		const truth = this.#clampMedia(this.#media + ahead);
		return {
			presented: true,
			displayedMediaTime: truth + noiseMs / 1000,
			displayedAtMs: nowMs + delayMs,
			trueDisplayedMediaTime: truth,
			state
		};
	}

	/**
	 * The frame the next refresh shows. Standing still, the frame at the media clock. Moving,
	 * the frame covering the middle of the refresh interval; at rate 1 the display keeps its
	 * pattern (one frame every n refreshes) until it drifts beyond the tolerance from the media
	 * clock, and only then realigns: a refresh or more at once.
	 */
	#presentOnRefresh(
		display: DisplayOptions,
		nowMs: number
	): { atMs: number; media: number; presented: boolean } {
		const refreshMs = 1000 / display.refreshHz;
		const phaseMs = display.phaseMs ?? 0;
		const atMs = phaseMs + Math.ceil((nowMs - phaseMs) / refreshMs - 1e-9) * refreshMs;
		const frameOf = (media: number) => Math.floor(media * display.frameRate + 1e-6);
		if (!this.#advancing()) {
			// Nothing new is presented (no frame callback); a caller reads `currentTime` instead.
			this.#cadence = undefined;
			this.#lastFrame = frameOf(this.#media);
			return { atMs: nowMs, media: this.#media, presented: false };
		}
		const rate = this.#effectiveRate();
		const clock = this.#media + (rate * (atMs - nowMs)) / 1000;
		let shown = clock;
		const toleranceS = (display.cadenceToleranceMs ?? refreshMs) / 1000;
		if (Math.abs(this.#rate - 1) < 1e-9) {
			const kept = this.#cadence && this.#cadence.media + (atMs - this.#cadence.atMs) / 1000;
			if (kept !== undefined && Math.abs(kept - clock) <= toleranceS) shown = kept;
			else this.#cadence = { atMs, media: clock };
		} else {
			this.#cadence = undefined;
		}
		const frame = frameOf(this.#clampMedia(shown + (rate * refreshMs) / 2000));
		const presented = frame !== this.#lastFrame;
		this.#lastFrame = frame;
		return { atMs, media: frame / display.frameRate, presented };
	}

	#advancing(): boolean {
		const ended = this.#options.durationS !== undefined && this.#media >= this.#options.durationS;
		return (
			!this.#paused &&
			this.#startsAtMs === undefined &&
			this.#setbackUntilMs === undefined &&
			this.#seekingUntil === undefined &&
			this.#bufferingUntil === undefined &&
			!ended
		);
	}

	#effectiveRate(): number {
		return this.#rate * (1 + (this.#options.mediaClockPpm ?? 0) * 1e-6);
	}

	#clampMedia(media: number): number {
		const duration = this.#options.durationS ?? Infinity;
		return Math.max(0, Math.min(duration, media));
	}

	/** Runs the media clock to `toMs`, stopping at every event on the way. */
	#advanceTo(toMs: number): void {
		for (;;) {
			this.#applyDueEvents();
			if (this.#atMs >= toMs) return;
			const next = Math.min(
				toMs,
				this.#pendingRates[0]?.atMs ?? Infinity,
				this.#seekingUntil ?? Infinity,
				this.#bufferingUntil ?? Infinity,
				this.#startsAtMs ?? Infinity,
				this.#setbackUntilMs ?? Infinity,
				this.#stalls[this.#nextStall]?.atMs ?? Infinity
			);
			if (this.#advancing()) {
				this.#media = this.#clampMedia(
					this.#media + (this.#effectiveRate() * (next - this.#atMs)) / 1000
				);
			}
			this.#atMs = next;
		}
	}

	#applyDueEvents(): void {
		const now = this.#atMs;
		while (this.#pendingRates[0] && this.#pendingRates[0].atMs <= now) {
			const rate = (this.#pendingRates.shift() as { rate: number }).rate;
			const setbackMs = this.#options.rateSetbackMs ?? 0;
			if (this.#rate === 1 && rate !== 1 && setbackMs > 0) this.#setbackUntilMs = now + setbackMs;
			this.#rate = rate;
		}
		if (this.#setbackUntilMs !== undefined && this.#setbackUntilMs <= now) {
			this.#setbackUntilMs = undefined;
		}
		if (this.#seekingUntil !== undefined && this.#seekingUntil <= now) {
			this.#seekingUntil = undefined;
			const buffering = this.#options.bufferAfterSeekMs ?? 0;
			if (buffering > 0) this.#bufferingUntil = now + buffering;
		}
		if (this.#bufferingUntil !== undefined && this.#bufferingUntil <= now) {
			this.#bufferingUntil = undefined;
		}
		if (this.#startsAtMs !== undefined && this.#startsAtMs <= now) this.#startsAtMs = undefined;
		for (let stall = this.#stalls[this.#nextStall]; stall && stall.atMs <= now;) {
			this.#bufferingUntil = Math.max(this.#bufferingUntil ?? 0, stall.atMs + stall.durationMs);
			stall = this.#stalls[++this.#nextStall];
		}
	}
}
