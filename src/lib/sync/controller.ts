/**
 * Steers one `<video>` to the playback schedule (issue 6): small errors are absorbed by nudging
 * `playbackRate`, large ones by a seek. Pure: each tick the caller passes what it measured and
 * applies the action it gets back; nothing here touches the DOM or reads a clock.
 */

/** ±5% of speed: with pitch preserved (the browsers' default) hardly audible, 50 ms a second. */
export const RATE_BAND = 0.05;
/**
 * Proportional gain, per second: rate correction = gain × error (s). 1 /s closes an error with
 * a 1 s time constant once out of saturation; the plant (media position) is an integrator, so
 * P alone already has ~85° of phase margin with 100 ms of rate-change latency.
 */
export const PROPORTIONAL_GAIN = 1;
/**
 * Integral gain, per s²: removes a steady error from a player whose media clock runs a little
 * off (audio clocks differ from the system clock by tens of ppm). Its corner (0.1 rad/s) is a
 * decade below the proportional one, so it barely adds overshoot.
 */
export const INTEGRAL_GAIN = 0.1;
/**
 * No derivative term: the error's derivative is just the rate mismatch we set ourselves, plus
 * measurement noise (frame timing) that a D term would amplify into rate changes.
 */
export const DERIVATIVE_GAIN = 0;
/** The integral only accumulates within this error (s), so large transients do not wind it up. */
export const INTEGRAL_ZONE_S = 0.05;
/** The integral term alone never moves the rate more than this (0.5%). */
export const INTEGRAL_LIMIT = 0.005;
/**
 * Closer than this (s), the rate goes back to nominal: no hunting around the target. The
 * error settles just inside it, so 2 ms (not 5) keeps members within a few ms of each other;
 * below ~1.25 ms the quantized correction is zero anyway.
 */
export const DEAD_BAND_S = 0.002;
/** ...and stays there until the error exceeds this (s): hysteresis against flapping. */
export const DEAD_BAND_EXIT_S = 0.01;
/**
 * Rates are multiples of this step (0.25%). Every `playbackRate` write reconfigures the
 * browser's time-stretcher, which can click or warble; coarse steps turn a slowly shrinking
 * error into a few writes instead of one per frame.
 */
export const RATE_STEP = 0.0025;
/** At most one rate write per this many ms, for the same reason (returning to nominal excepted). */
export const RATE_CHANGE_INTERVAL_MS = 250;
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
 * error is back within the dead band, so a seek that keeps missing cannot loop.
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
/** A longer gap between ticks (a background tab) does not feed the integral. */
export const MAX_TICK_GAP_MS = 1_000;

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
	player: PlayerState;
};

/** What to do to the player now. A seek also sets the rate (back to nominal while playing). */
export type PlaybackAction =
	{ kind: 'hold' } | { kind: 'rate'; rate: number } | { kind: 'seek'; to: number; rate: number };

/**
 * `locked`: within the dead band, nominal rate. `correcting`: the rate is nudged. `seeking`: a
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
export type ControllerOptions = {
	proportionalGain: number;
	integralGain: number;
	derivativeGain: number;
	rateBand: number;
	deadBandS: number;
	deadBandExitS: number;
	rateStep: number;
	rateChangeIntervalMs: number;
	seekThresholdS: number;
	seekCooldownMs: number;
	initialSeekLatencyMs: number;
	/** Off: seeks aim at the target itself and nothing is learned (a baseline to compare). */
	compensateSeekLatency: boolean;
};

export const DEFAULT_CONTROLLER_OPTIONS: ControllerOptions = {
	proportionalGain: PROPORTIONAL_GAIN,
	integralGain: INTEGRAL_GAIN,
	derivativeGain: DERIVATIVE_GAIN,
	rateBand: RATE_BAND,
	deadBandS: DEAD_BAND_S,
	deadBandExitS: DEAD_BAND_EXIT_S,
	rateStep: RATE_STEP,
	rateChangeIntervalMs: RATE_CHANGE_INTERVAL_MS,
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
	#lastTickMs: number | undefined;
	#lastErrorS: number | undefined;
	#integral = 0;
	#locked = false;
	#lastRateChangeMs = -Infinity;
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

	/** The integral term's current contribution to the rate (a fraction, e.g. 0.002). */
	get integralTerm(): number {
		return this.#options.integralGain * this.#integral;
	}

	/** One tick: measurements in, an action out. */
	update(input: ControllerInput): ControllerOutput {
		const { nowMs, player } = input;
		const errorS = input.targetMediaTime - input.displayedMediaTime;
		const gapMs = this.#lastTickMs === undefined ? 0 : nowMs - this.#lastTickMs;
		const dtS = gapMs > 0 && gapMs <= MAX_TICK_GAP_MS ? gapMs / 1000 : 0;
		this.#lastTickMs = nowMs;
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
		return this.#steerRate(input, errorS, dtS);
	}

	/** Nudges the rate: PI(D) on the error, with a dead band, quantized and rate-limited. */
	#steerRate(input: ControllerInput, errorS: number, dtS: number): ControllerOutput {
		const o = this.#options;
		const { targetRate, nowMs, player } = input;
		const magnitude = Math.abs(errorS);
		if (this.#locked && magnitude > o.deadBandExitS) this.#locked = false;
		else if (!this.#locked && magnitude < o.deadBandS) this.#locked = true;

		let rate = targetRate;
		if (this.#locked) {
			// On target: a seek streak is over, the next far error gets the short cooldown.
			this.#seekStreak = 0;
		} else {
			const derivative =
				dtS > 0 && this.#lastErrorS !== undefined ? (errorS - this.#lastErrorS) / dtS : 0;
			const proportional = o.proportionalGain * errorS + o.derivativeGain * derivative;
			const unclamped = proportional + o.integralGain * this.#integral;
			const saturated = Math.abs(unclamped) >= o.rateBand;
			// Anti-windup: integrate only near the target, and not while the output is pinned
			// at the band edge in the direction the error pushes.
			if (dtS > 0 && magnitude < INTEGRAL_ZONE_S && !(saturated && unclamped * errorS > 0)) {
				const next = this.#integral + errorS * dtS;
				const limit = INTEGRAL_LIMIT / o.integralGain;
				this.#integral = Math.max(-limit, Math.min(limit, next));
			}
			const correction = clamp(proportional + o.integralGain * this.#integral, o.rateBand);
			rate = targetRate * (1 + clamp(Math.round(correction / o.rateStep) * o.rateStep, o.rateBand));
		}
		this.#lastErrorS = errorS;
		const phase: ControlPhase = this.#locked ? 'locked' : 'correcting';

		if (Math.abs(rate - player.rate) < (o.rateStep * targetRate) / 2) {
			return { action: { kind: 'hold' }, errorS, phase };
		}
		const backToNominal = rate === targetRate;
		if (!backToNominal && nowMs - this.#lastRateChangeMs < o.rateChangeIntervalMs) {
			return { action: { kind: 'hold' }, errorS, phase };
		}
		this.#lastRateChangeMs = nowMs;
		return { action: { kind: 'rate', rate }, errorS, phase };
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
		this.#lastRateChangeMs = input.nowMs;
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
		this.#lastErrorS = undefined;
		this.#ticksBeyondThreshold = 0;
		this.#locked = false;
		return output;
	}

	#resetLoop(): void {
		this.#integral = 0;
		this.#lastErrorS = undefined;
		this.#locked = false;
		this.#ticksBeyondThreshold = 0;
	}
}

function clamp(value: number, band: number): number {
	return Math.max(-band, Math.min(band, value));
}
