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
import {
	SimulatedClientClock,
	SimulatedLink,
	SimulatedPlayer,
	simulatePing,
	type LinkOptions,
	type PlayerOptions
} from './simulation';

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
};

export type PlaybackTrace = {
	ticks: PlaybackTick[];
	/** Ms since playback started of each seek ordered. */
	seekTimesMs: number[];
	rateWrites: number;
	controller: PlaybackController;
};

const START_SERVER_MS = 1.7e12;

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
	let rateWrites = 0;
	const endMs = playbackStartMs + options.durationMs;

	for (let nowMs = startClientMs; nowMs <= endMs; nowMs += tickMs) {
		while (nextPingMs <= nowMs) {
			const { sample } = simulatePing(link, clock, clock.serverAt(nextPingMs));
			inFlight.push({ arrivesAtMs: sample.t3, sample });
			nextPingMs += nextPingDelayMs(++pingsSent);
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
		}

		const observation = player.observe(nowMs);
		// The frame is displayed later than now: the schedule is evaluated for that instant.
		const serverAtDisplay = sync.serverNow(observation.displayedAtMs);
		if (serverAtDisplay === undefined) continue;
		const targetRate = targetRateAt(schedule, serverAtDisplay);
		if (targetRate > 0 && observation.state.paused) player.play(nowMs);
		if (targetRate === 0 && !observation.state.paused) player.pause(nowMs);

		const output = controller.update({
			nowMs,
			targetMediaTime: targetMediaTime(schedule, serverAtDisplay),
			targetRate,
			displayedMediaTime: observation.displayedMediaTime,
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
		const trueTarget = targetMediaTime(schedule, clock.serverAt(observation.displayedAtMs));
		ticks.push({
			atMs: sinceStartMs,
			trueErrorS: trueTarget - observation.trueDisplayedMediaTime,
			measuredErrorS: output.errorS,
			rate: action.kind === 'hold' ? observation.state.rate : action.rate,
			phase: output.phase,
			action: action.kind
		});
	}
	return { ticks, seekTimesMs, rateWrites, controller };
}
