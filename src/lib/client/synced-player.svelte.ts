/**
 * One participant's `<video>` steered to the room's playback schedule (issue 6). Nobody is the
 * host: every member's player follows `$lib/sync`'s PlaybackController towards where the
 * schedule says the media should be, measured at the moment each frame is displayed
 * (`requestVideoFrameCallback`: its `mediaTime` at its `expectedDisplayTime`, mapped to the
 * server clock). About once a second it reports its sync quality as telemetry.
 *
 * A start (or a resume, or playing on after a seek) is announced ahead with a future anchor:
 * the player waits paused on the anchor's frame and calls `play()` on a timer set for the
 * anchor minus its learned play latency (`$lib/sync`'s PlaybackStart), so the first frames are
 * on time; the controller takes over once they have been measured.
 *
 * The element's own seeking, waiting and rate changes are read as state, never as commands, so
 * our seeks cannot feed back into the controller.
 */
import {
	estimateFrameIntervalMs,
	PlaybackController,
	PlaybackStart,
	targetMediaTime,
	targetRateAt,
	type ClockEstimate,
	type ControlPhase,
	type PlaybackSchedule
} from '../sync';

/** What the player needs of the room: the server clock and where reports go. */
export type SyncedPlayerOptions = {
	video: HTMLVideoElement;
	stageId: string;
	/** The server's time at a client time (ms, `performance.timeOrigin` based). */
	serverNow: (clientMs: number) => number;
	clockEstimate: () => ClockEstimate;
	roundTripMs: () => number | null;
	/** Once, when enough is buffered to start (the room waits for every member). */
	onBuffered: () => void;
	/** About once a second while a schedule runs: the `sync.quality` value (PROTOCOL §8c). */
	onReport: (report: SyncReport) => void;
	/** The media reached its end. */
	onEnded: () => void;
};

export type SyncReport = {
	stageId: string;
	errorMs: number;
	rate: number;
	offsetMs: number;
	rttMs: number;
	uncertaintyMs: number;
	phase: ControlPhase;
	seeks: number;
	/** The play latency the next start will play ahead by, ms (learned from the starts). */
	playLatencyMs: number;
	/** The measured spacing of displayed frames, ms (null until measured): the lock band's unit. */
	frameMs: number | null;
};

/** Ticks without frames (paused, before the start, a tab without rVFC): often enough to start on time. */
const IDLE_TICK_MS = 100;
const REPORT_INTERVAL_MS = 1_000;
/** A player this close to the end when the schedule is past it has ended (a frame or two). */
const END_TOLERANCE_S = 0.1;
/** `HTMLMediaElement.HAVE_ENOUGH_DATA`: the browser expects to play through. */
const HAVE_ENOUGH_DATA = 4;
/**
 * The start timer is set this much early and the last stretch is waited out on the clock:
 * timers fire a few ms late, a busy wait of a few ms once per start costs nothing.
 */
const START_SPIN_MS = 4;
/** Display times kept to measure the spacing of displayed frames. */
const FRAME_SAMPLES = 31;

type FrameMetadata = { mediaTime: number; expectedDisplayTime: number };
type FrameVideo = HTMLVideoElement & {
	requestVideoFrameCallback?: (callback: (now: number, metadata: FrameMetadata) => void) => number;
	cancelVideoFrameCallback?: (handle: number) => void;
};

export class SyncedPlayer {
	#phase = $state<ControlPhase>('idle');
	#errorMs = $state<number | null>(null);
	/** The browser refused to play without a click on this page (autoplay policy). */
	#needsClick = $state(false);
	#buffered = $state(false);

	readonly #options: SyncedPlayerOptions;
	readonly #video: FrameVideo;
	readonly #controller = new PlaybackController();
	readonly #start = new PlaybackStart();
	#startTimer: ReturnType<typeof setTimeout> | undefined;
	/** Display times of the latest frames, to measure their spacing. */
	readonly #frameTimes: number[] = [];
	#frameIntervalMs: number | undefined;
	#schedule: PlaybackSchedule | null = null;
	#waiting = false;
	#frameHandle: number | undefined;
	#idleTimer: ReturnType<typeof setInterval> | undefined;
	#lastFrameAtMs = -Infinity;
	#lastReportAtMs = -Infinity;
	#lastError = 0;
	#destroyed = false;
	#endedReported = false;
	readonly #listeners: [string, () => void][];

	constructor(options: SyncedPlayerOptions) {
		this.#options = options;
		this.#video = options.video as FrameVideo;
		this.#video.preload = 'auto';
		this.#listeners = [
			['canplaythrough', () => this.#checkBuffered()],
			['progress', () => this.#checkBuffered()],
			['loadeddata', () => this.#checkBuffered()],
			['waiting', () => (this.#waiting = true)],
			['playing', () => (this.#waiting = false)],
			['seeked', () => (this.#waiting = false)],
			['ended', () => this.#reportEnded()]
		];
		for (const [name, listener] of this.#listeners) this.#video.addEventListener(name, listener);
		this.#idleTimer = setInterval(() => this.#idleTick(), IDLE_TICK_MS);
		this.#requestFrame();
		this.#checkBuffered();
	}

	get phase(): ControlPhase {
		return this.#phase;
	}
	/** Target minus displayed media time at the last tick, ms (positive: behind). */
	get errorMs(): number | null {
		return this.#errorMs;
	}
	get needsClick(): boolean {
		return this.#needsClick;
	}
	get buffered(): boolean {
		return this.#buffered;
	}

	/** The schedule from the member view; null until the room schedules the start. */
	setSchedule(schedule: PlaybackSchedule | null): void {
		if (!sameSchedule(schedule, this.#schedule)) {
			// A new anchor: a start in progress (or armed) was for the old one.
			this.#start.cancel();
			this.#clearStartTimer();
		}
		this.#schedule = schedule;
		this.#tick(clientNow(), this.#video.currentTime, false);
	}

	/** After the participant clicked: playing is allowed now. */
	resume(): void {
		this.#needsClick = false;
		this.#tick(clientNow(), this.#video.currentTime, false);
	}

	destroy(): void {
		this.#destroyed = true;
		clearInterval(this.#idleTimer);
		this.#clearStartTimer();
		if (this.#frameHandle !== undefined) this.#video.cancelVideoFrameCallback?.(this.#frameHandle);
		for (const [name, listener] of this.#listeners) {
			this.#video.removeEventListener(name, listener);
		}
		this.#video.pause();
	}

	/** Once: the element's `ended`, or the schedule at the end with the player there too. */
	#reportEnded(): void {
		if (this.#endedReported) return;
		this.#endedReported = true;
		this.#options.onEnded();
	}

	#checkBuffered(): void {
		if (this.#buffered || this.#video.readyState < HAVE_ENOUGH_DATA) return;
		this.#buffered = true;
		this.#options.onBuffered();
	}

	#requestFrame(): void {
		if (this.#destroyed || !this.#video.requestVideoFrameCallback) return;
		this.#frameHandle = this.#video.requestVideoFrameCallback((_now, metadata) => {
			// The frame's own display time and media time: the error where the eye sees it.
			const displayedAtMs = performance.timeOrigin + metadata.expectedDisplayTime;
			this.#lastFrameAtMs = clientNow();
			this.#measureFrameInterval(displayedAtMs);
			this.#tick(displayedAtMs, metadata.mediaTime, true);
			this.#requestFrame();
		});
	}

	/** Keeps the spacing of displayed frames up to date: how finely frames can be placed. */
	#measureFrameInterval(displayedAtMs: number): void {
		const times = this.#frameTimes;
		times.push(displayedAtMs);
		if (times.length > FRAME_SAMPLES) times.shift();
		this.#frameIntervalMs = estimateFrameIntervalMs(times) ?? this.#frameIntervalMs;
	}

	/** No frames come while paused, before the start, or without rVFC: tick on currentTime. */
	#idleTick(): void {
		if (clientNow() - this.#lastFrameAtMs < IDLE_TICK_MS * 2) return;
		this.#tick(clientNow(), this.#video.currentTime, false);
	}

	/** Arms (or re-arms, with the latest clock estimate) the timer for a future anchor. */
	#planStart(schedule: PlaybackSchedule): void {
		if (this.#needsClick || this.#start.active) return;
		const plan = this.#start.plan(schedule, this.#options.serverNow(clientNow()));
		if (plan.kind === 'none') this.#clearStartTimer();
		else if (plan.kind === 'play') this.#playOnTime();
		else {
			this.#clearStartTimer();
			const delayMs = Math.max(0, plan.playInMs - START_SPIN_MS);
			this.#startTimer = setTimeout(() => this.#playOnTime(), delayMs);
		}
	}

	#clearStartTimer(): void {
		if (this.#startTimer !== undefined) clearTimeout(this.#startTimer);
		this.#startTimer = undefined;
	}

	/** The start timer fired: wait out the last ms, then play at the schedule's rate. */
	#playOnTime(): void {
		this.#startTimer = undefined;
		const schedule = this.#schedule;
		if (this.#destroyed || !schedule || this.#needsClick || this.#start.active) return;
		const serverNow = () => this.#options.serverNow(clientNow());
		const plannedAtServer = schedule.anchorServerTime - this.#start.playLatencyMs;
		const early = plannedAtServer - serverNow();
		if (early > START_SPIN_MS) {
			this.#planStart(schedule);
			return;
		}
		while (serverNow() < plannedAtServer) {
			// Busy wait: at most START_SPIN_MS.
		}
		const playedAtMs = clientNow();
		const serverAtPlay = this.#options.serverNow(playedAtMs);
		if (serverAtPlay >= schedule.anchorServerTime) return;
		const anchorAtMs = playedAtMs + (schedule.anchorServerTime - serverAtPlay);
		const video = this.#video;
		video.playbackRate = schedule.rate;
		this.#start.begin(
			playedAtMs,
			anchorAtMs,
			schedule.rate,
			playedAtMs - (serverAtPlay - plannedAtServer)
		);
		video.play().catch(() => {
			this.#needsClick = true;
			this.#start.cancel();
		});
	}

	#tick(displayedAtMs: number, displayedMediaTime: number, presented: boolean): void {
		const schedule = this.#schedule;
		if (this.#destroyed || !schedule) return;
		const video = this.#video;
		const serverAtDisplay = this.#options.serverNow(displayedAtMs);
		const duration = Number.isFinite(video.duration) ? video.duration : undefined;
		const targetRate = targetRateAt(schedule, serverAtDisplay, duration);
		// The schedule ran past the end: the element ends by itself (pausing it a frame short
		// would keep `ended` from ever firing).
		const pastEnd =
			duration !== undefined &&
			schedule.playing &&
			targetMediaTime(schedule, serverAtDisplay) >= duration;
		if (pastEnd) {
			if (video.ended || video.currentTime >= duration - END_TOLERANCE_S) this.#reportEnded();
			return;
		}
		const target = targetMediaTime(schedule, serverAtDisplay, duration);
		// A timed start owns the player from play() until its first frames are measured.
		if (this.#start.active) {
			const errorS = presented ? target - displayedMediaTime : undefined;
			if (this.#start.observe(displayedAtMs, errorS)) {
				this.#phase = serverAtDisplay < schedule.anchorServerTime ? 'idle' : 'correcting';
				this.#lastError = (target - displayedMediaTime) * 1000;
				this.#errorMs = this.#lastError;
				this.#report();
				return;
			}
		}
		this.#planStart(schedule);
		if (this.#start.active) return;
		if (targetRate > 0 && video.paused && !video.ended && !this.#needsClick) {
			video.play().catch(() => (this.#needsClick = true));
		}
		if (targetRate === 0 && !video.paused) video.pause();
		const output = this.#controller.update({
			nowMs: clientNow(),
			targetMediaTime: target,
			targetRate,
			displayedMediaTime,
			frameIntervalMs: this.#frameIntervalMs,
			player: {
				seeking: video.seeking,
				waiting: this.#waiting,
				paused: video.paused,
				rate: video.playbackRate
			}
		});
		const { action } = output;
		if (action.kind === 'rate') video.playbackRate = action.rate;
		else if (action.kind === 'seek') {
			video.currentTime = action.to;
			video.playbackRate = action.rate;
		}
		this.#phase = output.phase;
		this.#lastError = output.errorS * 1000;
		this.#errorMs = this.#lastError;
		this.#report();
	}

	#report(): void {
		const now = clientNow();
		if (now - this.#lastReportAtMs < REPORT_INTERVAL_MS) return;
		const estimate = this.#options.clockEstimate();
		// Without a clock estimate the error means nothing yet: no report rather than a wrong one.
		if (!estimate.synced) return;
		this.#lastReportAtMs = now;
		this.#options.onReport({
			stageId: this.#options.stageId,
			errorMs: round(this.#lastError),
			rate: this.#video.playbackRate,
			offsetMs: round(estimate.offsetMs),
			rttMs: round(this.#options.roundTripMs() ?? estimate.minDelayMs),
			uncertaintyMs: round(estimate.uncertaintyMs),
			phase: this.#phase,
			seeks: this.#controller.seeks,
			playLatencyMs: round(this.#start.playLatencyMs),
			frameMs: this.#frameIntervalMs === undefined ? null : round(this.#frameIntervalMs)
		});
	}
}

/** Whether two schedules are one: same media, state, anchor and rate. */
function sameSchedule(a: PlaybackSchedule | null, b: PlaybackSchedule | null): boolean {
	if (a === b) return true;
	if (!a || !b) return false;
	return (
		a.mediaId === b.mediaId &&
		a.playing === b.playing &&
		a.anchorMediaTime === b.anchorMediaTime &&
		a.anchorServerTime === b.anchorServerTime &&
		a.rate === b.rate
	);
}

function clientNow(): number {
	return performance.timeOrigin + performance.now();
}

/** Microsecond precision is plenty for the data and keeps the telemetry small. */
function round(ms: number): number {
	return Math.round(ms * 1000) / 1000;
}
