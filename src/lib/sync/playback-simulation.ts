/**
 * One participant's synchronized playback end to end, on virtual time: pings over a simulated
 * link feed the clock sync, the schedule is evaluated at the estimated server time of each
 * displayed frame, the controller steers a simulated player. Every tick is graded against the
 * true server clock. This is also the reference for the browser wiring: it does the same steps.
 */
import { ClockSync, nextPingDelayMs } from './clock';
import {
	PlaybackController,
	type ControlPhase,
	type ControllerOptions,
	type PlaybackAction
} from './controller';
import { targetMediaTime, targetRateAt, type PlaybackSchedule } from './schedule';
import { PlaybackStart } from './start';
import { SimulatedPlayer, type PlayerOptions } from './player-simulation';
import { SimulatedClientClock, SimulatedLink, simulatePing, type LinkOptions } from './simulation';

export type PlaybackSimulationOptions = {
	seed: number;
	/** How long playback is simulated, ms (after the warm-up). */
	durationMs: number;
	/** Controller tick spacing, ms: a frame (16.7) or a timer (100–250). */
	tickMs?: number;
	/** Clock pings before playback starts, ms, so the clock is synced (the connect burst). */
	warmupMs?: number;
	link?: Omit<LinkOptions, 'seed'>;
	clock?: { offsetMs: number; driftPpm: number; resolutionMs?: number };
	/** Where the player starts relative to the true target, s: positive is behind. */
	initialErrorS: number;
	/** Player behaviour; stall times are ms after playback starts. */
	player?: Omit<PlayerOptions, 'seed' | 'startAtMs' | 'startMediaTime'>;
	controller?: Partial<ControllerOptions>;
	/** The schedule at the start; by default at 60 s, playing at rate 1, as playback starts. */
	schedule?: PlaybackSchedule;
	/** Moves the schedule's anchor to this long after playback starts (ms): a timed start. */
	anchorInMs?: number;
	/** The play latency the start assumes before it measured one, ms. */
	initialPlayLatencyMs?: number;
	/** The steady ping spacing, ms (`nextPingDelayMs`). */
	pingIntervalMs?: number;
	/** The frame interval the controller is told, ms (by default the display's, or 60 fps). */
	frameIntervalMs?: number;
	/** Schedule changes (as the server would broadcast them), ms after playback starts. */
	scheduleChanges?: {
		atMs: number;
		change: (schedule: PlaybackSchedule, serverNowMs: number) => PlaybackSchedule;
	}[];
};

export type PlaybackTick = {
	/** Ms since playback started. */
	atMs: number;
	/** True target minus what is truly displayed, s. */
	trueErrorS: number;
	/** The error as the controller measured it, s. */
	measuredErrorS: number;
	/** The player's `playbackRate` after this tick. */
	rate: number;
	phase: ControlPhase;
	action: PlaybackAction['kind'];
	/** A timed start owned the player (pre-roll, then its first frames): the controller held. */
	starting: boolean;
};

export type PlaybackTrace = {
	ticks: PlaybackTick[];
	/** Ms since playback started of each seek ordered. */
	seekTimesMs: number[];
	/** Ms since playback started of each timed `play()`. */
	playTimesMs: number[];
	rateWrites: number;
	controller: PlaybackController;
	start: PlaybackStart;
};

const START_SERVER_MS = 1.7e12;
/** As `SyncedPlayer`: without frames for twice this long, a tick reads `currentTime` this often. */
const IDLE_TICK_MS = 100;

/** Runs one simulated participant and returns every tick, graded against the truth. */
export function simulatePlayback(options: PlaybackSimulationOptions): PlaybackTrace {
	const tickMs = options.tickMs ?? 1000 / 60;
	const warmupMs = options.warmupMs ?? 2_000;
	const link = new SimulatedLink({
		seed: options.seed,
		up: { baseMs: 20, jitterMs: 5 },
		down: { baseMs: 20, jitterMs: 5 },
		...options.link
	});
	const clock = new SimulatedClientClock({
		offsetMs: 0,
		driftPpm: 0,
		...options.clock,
		startServerMs: START_SERVER_MS
	});
	const sync = new ClockSync();
	const controller = new PlaybackController(options.controller);
	const start = new PlaybackStart(options.initialPlayLatencyMs);
	const display = options.player?.display;
	// The spacing of displayed frames, as SyncedPlayer measures it; a 60 fps video without a display.
	const frameIntervalMs =
		options.frameIntervalMs ?? (display ? 1000 / display.frameRate : 1000 / 60);

	// Client time is the simulation's axis: ticks and pings run on the client's clock.
	const startClientMs = clock.clientAt(START_SERVER_MS);
	const playbackStartMs = startClientMs + warmupMs;
	// Started 10 s earlier: the target already moves when the player joins.
	let schedule: PlaybackSchedule = options.schedule ?? {
		mediaId: 'simulated',
		playing: true,
		anchorMediaTime: 50,
		anchorServerTime: clock.serverAt(playbackStartMs) - 10_000,
		rate: 1
	};
	if (options.anchorInMs !== undefined) {
		schedule = {
			...schedule,
			anchorServerTime: clock.serverAt(playbackStartMs) + options.anchorInMs
		};
	}
	const changes = [...(options.scheduleChanges ?? [])].sort((a, b) => a.atMs - b.atMs);
	const stalls = (options.player?.stalls ?? []).map((stall) => ({
		...stall,
		atMs: playbackStartMs + stall.atMs
	}));
	const trueTargetAtStart = targetMediaTime(schedule, clock.serverAt(playbackStartMs));
	const player = new SimulatedPlayer({
		...options.player,
		stalls,
		seed: options.seed + 1,
		startAtMs: playbackStartMs,
		startMediaTime: Math.max(0, trueTargetAtStart - options.initialErrorS)
	});

	const inFlight: { arrivesAtMs: number; sample: ReturnType<typeof simulatePing>['sample'] }[] = [];
	let pingsSent = 0;
	let nextPingMs = startClientMs;
	const ticks: PlaybackTick[] = [];
	const seekTimesMs: number[] = [];
	const playTimesMs: number[] = [];
	let rateWrites = 0;
	/** The armed start timer (client ms), as `SyncedPlayer` arms it. */
	let playAtMs: number | undefined;
	let lastFrameAtMs = -Infinity;
	let lastIdleTickAtMs = -Infinity;
	const endMs = playbackStartMs + options.durationMs;

	/** The timer fired: play now, at the schedule's rate, and let the start watch. */
	const playOnTime = (atMs: number, plannedAtMs: number) => {
		const serverAt = sync.serverNow(atMs);
		if (serverAt === undefined || !schedule.playing || serverAt >= schedule.anchorServerTime)
			return;
		player.setRate(schedule.rate, atMs);
		player.play(atMs);
		start.begin(atMs, atMs + (schedule.anchorServerTime - serverAt), schedule.rate, plannedAtMs);
		playTimesMs.push(atMs - playbackStartMs);
	};

	for (let nowMs = startClientMs; nowMs <= endMs; nowMs += tickMs) {
		while (nextPingMs <= nowMs) {
			const { sample } = simulatePing(link, clock, clock.serverAt(nextPingMs));
			inFlight.push({ arrivesAtMs: sample.t3, sample });
			nextPingMs += nextPingDelayMs(++pingsSent, options.pingIntervalMs);
		}
		inFlight.sort((a, b) => a.arrivesAtMs - b.arrivesAtMs);
		while (inFlight[0] && inFlight[0].arrivesAtMs <= nowMs) {
			sync.addSample((inFlight.shift() as (typeof inFlight)[number]).sample);
		}
		if (nowMs < playbackStartMs) continue;
		const sinceStartMs = nowMs - playbackStartMs;
		while (changes[0] && changes[0].atMs <= sinceStartMs) {
			schedule = (changes.shift() as (typeof changes)[number]).change(
				schedule,
				clock.serverAt(nowMs)
			);
			start.cancel();
			playAtMs = undefined;
		}
		// A timer fires on time (SyncedPlayer spins the last few ms), between two ticks.
		if (playAtMs !== undefined && playAtMs <= nowMs) {
			const at = Math.max(playAtMs, nowMs - tickMs);
			playOnTime(at, playAtMs);
			playAtMs = undefined;
		}

		const observation = player.observe(nowMs);
		// With a display, ticks come with new frames (requestVideoFrameCallback), or from the
		// idle timer when none came for a while.
		if (display && !observation.presented) {
			const idle = nowMs - lastFrameAtMs >= 2 * IDLE_TICK_MS;
			if (!idle || nowMs - lastIdleTickAtMs < IDLE_TICK_MS) continue;
			lastIdleTickAtMs = nowMs;
		} else {
			lastFrameAtMs = nowMs;
		}
		// The frame is displayed later than now: the schedule is evaluated for that instant.
		const serverAtDisplay = sync.serverNow(observation.displayedAtMs);
		if (serverAtDisplay === undefined) continue;
		const target = targetMediaTime(schedule, serverAtDisplay);
		const trueTarget = targetMediaTime(schedule, clock.serverAt(observation.displayedAtMs));
		const record = (tick: Omit<PlaybackTick, 'atMs' | 'trueErrorS'>) =>
			ticks.push({
				atMs: sinceStartMs,
				trueErrorS: trueTarget - observation.trueDisplayedMediaTime,
				...tick
			});

		if (start.active) {
			const errorS = observation.presented ? target - observation.displayedMediaTime : undefined;
			if (start.observe(observation.displayedAtMs, errorS)) {
				record({
					measuredErrorS: target - observation.displayedMediaTime,
					rate: observation.state.rate,
					phase: 'correcting',
					action: 'hold',
					starting: true
				});
				continue;
			}
		}
		const plan = start.plan(schedule, sync.serverNow(nowMs) as number);
		if (plan.kind === 'wait') playAtMs = nowMs + plan.playInMs;
		else if (plan.kind === 'play' && !start.active) playOnTime(nowMs, nowMs);
		if (start.active) continue;

		const targetRate = targetRateAt(schedule, serverAtDisplay);
		if (targetRate > 0 && observation.state.paused) player.play(nowMs);
		if (targetRate === 0 && !observation.state.paused) player.pause(nowMs);

		const output = controller.update({
			nowMs,
			targetMediaTime: target,
			targetRate,
			displayedMediaTime: observation.displayedMediaTime,
			frameIntervalMs,
			player: observation.state
		});
		const { action } = output;
		if (action.kind === 'rate') {
			player.setRate(action.rate, nowMs);
			rateWrites++;
		} else if (action.kind === 'seek') {
			player.seek(action.to, nowMs);
			player.setRate(action.rate, nowMs);
			seekTimesMs.push(sinceStartMs);
		}
		record({
			measuredErrorS: output.errorS,
			rate: action.kind === 'hold' ? observation.state.rate : action.rate,
			phase: output.phase,
			action: action.kind,
			starting: false
		});
	}
	return { ticks, seekTimesMs, playTimesMs, rateWrites, controller, start };
}
