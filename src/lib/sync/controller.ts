/**
 * Steers one `<video>` to the playback schedule (issue 6): small errors are absorbed by
 * `playbackRate` (rate-steering.ts: a lock band of half a frame, and pulses), large ones by a
 * seek. Pure: each tick the caller passes what it measured and applies the action it gets back;
 * nothing here touches the DOM or reads a clock.
 */
import {
	DEFAULT_RATE_STEERING_OPTIONS,
	RateSteering,
	type RateSteeringOptions
} from './rate-steering';

/**
 * Beyond this error (s) a seek beats the rate: at the 5% band 0.25 s takes ~5 s to absorb
 * (0.5 s would take over 10 s), while a seek costs one visible jump and a 50–300 ms freeze.
 */
export const SEEK_THRESHOLD_S = 0.25;
/**
 * When the schedule stands still a seek is invisible, so an error beyond this (s) is seeked
 * away: a frame at 24 fps, since a displayed frame's time is up to a frame short of a target
 * that falls inside it.
 */
export const PAUSED_SEEK_THRESHOLD_S = 0.05;
/** Ticks in a row beyond the threshold before seeking: one odd measurement is no reason to jump. */
export const SEEK_CONFIRM_TICKS = 2;
/**
 * No new seek within this long after one settles; doubled for each further seek before the
 * error is back within the lock band, so a seek that keeps missing cannot loop.
 */
export const SEEK_COOLDOWN_MS = 2_000;
/** The cooldown's ceiling. */
export const MAX_SEEK_COOLDOWN_MS = 30_000;
/** Seek latency assumed before any was measured: the middle of what browsers take (50–300 ms). */
export const DEFAULT_SEEK_LATENCY_MS = 150;
/** Weight of the newest measured seek latency in the running estimate. */
export const SEEK_LATENCY_SMOOTHING = 0.5;
/** A measured latency above this (ms) is not believed: something else happened meanwhile. */
export const MAX_SEEK_LATENCY_MS = 2_000;
/** A seek has settled once the media advanced on this many ticks in a row. */
export const SEEK_SETTLE_TICKS = 2;
/** A seek not settled after this long is given up on (and treated like a stall). */
export const SEEK_TIMEOUT_MS = 5_000;

/** What the player reports about itself (`HTMLMediaElement` state). */
export type PlayerState = {
	seeking: boolean;
	/** Buffer starvation: `waiting` fired and playback has not resumed. */
	waiting: boolean;
	paused: boolean;
	/** The `playbackRate` as read back. */
	rate: number;
};

/** One tick's measurements, all taken for the same instant: the moment a frame is displayed. */
export type ControllerInput = {
	/** Client clock, ms. */
	nowMs: number;
	/**
	 * Where the schedule says the media should be at the display instant (s): evaluate the
	 * schedule at the server time of the frame's display time, not of the tick.
	 */
	targetMediaTime: number;
	/** How fast the target moves (`targetRateAt`): 0 while paused or before the start. */
	targetRate: number;
	/** The media time of the displayed frame (s), e.g. `requestVideoFrameCallback`'s `mediaTime`. */
	displayedMediaTime: number;
	/**
	 * The spacing of displayed frames, ms, as measured (`estimateFrameIntervalMs`): errors come in
	 * steps of up to it, so it sets the lock band; 30 fps when left out.
	 */
	frameIntervalMs?: number;
	player: PlayerState;
};

/** What to do to the player now. A seek also sets the rate (back to nominal while playing). */
export type PlaybackAction =
	{ kind: 'hold' } | { kind: 'rate'; rate: number } | { kind: 'seek'; to: number; rate: number };

/**
 * `locked`: on the frame position nearest the target, nominal rate. `correcting`: the rate is nudged. `seeking`: a
 * seek is in flight, the player's own events are ignored. `stalled`: buffering, nothing is
 * learned. `paused`: the player is paused while the schedule plays (the caller should play).
 * `idle`: the schedule stands still.
 */
export type ControlPhase = 'locked' | 'correcting' | 'seeking' | 'stalled' | 'paused' | 'idle';

export type ControllerOutput = {
	action: PlaybackAction;
	/** Target minus displayed media time, s: positive when behind. */
	errorS: number;
	phase: ControlPhase;
};

/** Every tuning constant, overridable (tests, benchmarks). */
export type ControllerOptions = RateSteeringOptions & {
	seekThresholdS: number;
	seekCooldownMs: number;
	initialSeekLatencyMs: number;
	/** Off: seeks aim at the target itself and nothing is learned (a baseline to compare). */
	compensateSeekLatency: boolean;
};

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
	...DEFAULT_RATE_STEERING_OPTIONS,
	seekThresholdS: SEEK_THRESHOLD_S,
	seekCooldownMs: SEEK_COOLDOWN_MS,
	initialSeekLatencyMs: DEFAULT_SEEK_LATENCY_MS,
	compensateSeekLatency: true
};

type SeekInFlight = {
	issuedAtMs: number;
	/** How far ahead of the target it aimed, media s. */
	aimedAheadS: number;
	targetRate: number;
	lastDisplayed: number | undefined;
	advancingTicks: number;
};

/** A settled seek: how long it took, and the latency it implied (from the error after it). */
export type SeekReport = { settleMs: number; effectiveLatencyMs: number | undefined };

/** The controller of one player. Feed it every tick; apply what it returns. */
export class PlaybackController {
	readonly #options: ControllerOptions;
	readonly #steering: RateSteering;
	#ticksBeyondThreshold = 0;
	#seek: SeekInFlight | undefined;
	#seekAllowedAtMs = -Infinity;
	#seekStreak = 0;
	/** Where the last seek while standing still went: never seek there twice (no loop). */
	#idleSeekTarget: number | undefined;
	#seekLatencyMs: number;
	#latencyMeasured = false;
	#seeks = 0;
	#lastSeek: SeekReport | undefined;

	constructor(options: Partial<ControllerOptions> = {}) {
		this.#options = { ...DEFAULT_CONTROLLER_OPTIONS, ...options };
		this.#steering = new RateSteering(this.#options);
		this.#seekLatencyMs = this.#options.initialSeekLatencyMs;
	}

	/** The seek latency the next seek will compensate for, ms. */
	get seekLatencyMs(): number {
		return this.#seekLatencyMs;
	}

	/** Seeks ordered so far. */
	get seeks(): number {
		return this.#seeks;
	}

	/** The last settled seek, for telemetry. */
	get lastSeek(): SeekReport | undefined {
		return this.#lastSeek;
	}

	/** Rate pulses ordered so far. */
	get pulses(): number {
		return this.#steering.pulses;
	}

	/** The setback the next rate pulse allows for, ms (learned). */
	get rateSetbackMs(): number {
		return this.#steering.setbackMs;
	}

	/** One tick: measurements in, an action out. */
	update(input: ControllerInput): ControllerOutput {
		const { nowMs, player } = input;
		const errorS = input.targetMediaTime - input.displayedMediaTime;
		const hold = (phase: ControlPhase): ControllerOutput => ({
			action: { kind: 'hold' },
			errorS,
			phase
		});

		// While our own seek is in flight the player's seeking/waiting/paused events are its
		// side effects, not drift: nothing is learned from them.
		if (this.#seek && !this.#settleSeek(input, errorS)) return hold('seeking');
		if (input.targetRate <= 0) return this.#updateIdle(input, errorS);
		this.#idleSeekTarget = undefined;
		if (player.seeking) return this.#interrupt(hold('seeking'));
		if (player.waiting) return this.#interrupt(hold('stalled'));
		if (player.paused) return this.#interrupt(hold('paused'));

		const threshold = this.#options.seekThresholdS;
		this.#ticksBeyondThreshold = Math.abs(errorS) > threshold ? this.#ticksBeyondThreshold + 1 : 0;
		if (this.#ticksBeyondThreshold >= SEEK_CONFIRM_TICKS && nowMs >= this.#seekAllowedAtMs) {
			return { action: this.#startSeek(input), errorS, phase: 'seeking' };
		}
		return this.#steerRate(input, errorS);
	}

	/** Steers by rate (see rate-steering.ts); on target, a seek streak is over. */
	#steerRate(input: ControllerInput, errorS: number): ControllerOutput {
		const { rate, phase } = this.#steering.update({
			nowMs: input.nowMs,
			errorS,
			targetRate: input.targetRate,
			playerRate: input.player.rate,
			frameIntervalMs: input.frameIntervalMs
		});
		// On target: the next far error gets the short cooldown.
		if (phase === 'locked') this.#seekStreak = 0;
		const action: PlaybackAction = rate === undefined ? { kind: 'hold' } : { kind: 'rate', rate };
		return { action, errorS, phase };
	}

	/** A seek to where the target will be once the seek is done (latency-compensated). */
	#startSeek(input: ControllerInput): PlaybackAction {
		const o = this.#options;
		const aimedAheadS = o.compensateSeekLatency
			? (this.#seekLatencyMs / 1000) * input.targetRate
			: 0;
		const to = Math.max(0, input.targetMediaTime + aimedAheadS);
		this.#seek = {
			issuedAtMs: input.nowMs,
			aimedAheadS: to - input.targetMediaTime,
			targetRate: input.targetRate,
			lastDisplayed: undefined,
			advancingTicks: 0
		};
		this.#seeks++;
		// A seek standing still cannot loop (see `#updateIdle`): no streak, no cooldown.
		if (input.targetRate > 0) this.#seekStreak++;
		this.#resetLoop();
		// Standing still there is no nominal rate to return to: the player keeps its own.
		const rate = input.targetRate > 0 ? input.targetRate : input.player.rate;
		return { kind: 'seek', to, rate };
	}

	/**
	 * Watches a seek in flight; true once it has settled (the media advances again), when it
	 * also learns the latency from the error left behind: had the seek taken exactly the
	 * latency we aimed ahead by, that error would be zero.
	 */
	#settleSeek(input: ControllerInput, errorS: number): boolean {
		const seek = this.#seek as SeekInFlight;
		const { player, nowMs } = input;
		const elapsedMs = nowMs - seek.issuedAtMs;
		if (elapsedMs > SEEK_TIMEOUT_MS) {
			this.#finishSeek(nowMs);
			return true;
		}
		const standingStill = seek.targetRate === 0 || input.targetRate === 0;
		if (player.seeking || player.waiting || (player.paused && !standingStill)) {
			seek.advancingTicks = 0;
			seek.lastDisplayed = undefined;
			return false;
		}
		if (!standingStill) {
			const advanced =
				seek.lastDisplayed !== undefined && input.displayedMediaTime > seek.lastDisplayed;
			seek.lastDisplayed = input.displayedMediaTime;
			seek.advancingTicks = advanced ? seek.advancingTicks + 1 : 0;
			if (seek.advancingTicks < SEEK_SETTLE_TICKS) return false;
		}
		let effectiveLatencyMs: number | undefined;
		if (!standingStill && this.#options.compensateSeekLatency) {
			const latencyMs = ((seek.aimedAheadS + errorS) / seek.targetRate) * 1000;
			// An error this large after settling means the target itself moved (a new schedule).
			if (latencyMs >= 0 && latencyMs <= MAX_SEEK_LATENCY_MS) {
				effectiveLatencyMs = latencyMs;
				this.#seekLatencyMs = this.#latencyMeasured
					? this.#seekLatencyMs + SEEK_LATENCY_SMOOTHING * (latencyMs - this.#seekLatencyMs)
					: latencyMs;
				this.#latencyMeasured = true;
			}
		}
		this.#lastSeek = { settleMs: elapsedMs, effectiveLatencyMs };
		this.#finishSeek(nowMs);
		return true;
	}

	#finishSeek(nowMs: number): void {
		const standingStill = this.#seek?.targetRate === 0;
		this.#seek = undefined;
		if (standingStill) return;
		const cooldown = this.#options.seekCooldownMs * 2 ** Math.max(0, this.#seekStreak - 1);
		this.#seekAllowedAtMs = nowMs + Math.min(MAX_SEEK_COOLDOWN_MS, cooldown);
	}

	/**
	 * The schedule stands still: show its frame exactly (a seek is invisible now). At once,
	 * without cooldown, so a researcher scrubbing a paused video is followed; but only once per
	 * target, so a player that cannot land within the threshold is not sent there again.
	 */
	#updateIdle(input: ControllerInput, errorS: number): ControllerOutput {
		this.#resetLoop();
		const target = input.targetMediaTime;
		const alreadySent =
			this.#idleSeekTarget !== undefined &&
			Math.abs(target - this.#idleSeekTarget) <= PAUSED_SEEK_THRESHOLD_S;
		if (input.player.seeking || alreadySent || Math.abs(errorS) <= PAUSED_SEEK_THRESHOLD_S) {
			return { action: { kind: 'hold' }, errorS, phase: 'idle' };
		}
		this.#idleSeekTarget = target;
		return { action: this.#startSeek(input), errorS, phase: 'seeking' };
	}

	/**
	 * The player is not playing on its own (buffering, paused, seeking by itself): hold, learn
	 * nothing, and re-evaluate from scratch when it resumes.
	 */
	#interrupt(output: ControllerOutput): ControllerOutput {
		this.#steering.reset();
		this.#ticksBeyondThreshold = 0;
		return output;
	}

	#resetLoop(): void {
		this.#steering.reset();
		this.#ticksBeyondThreshold = 0;
	}
}
