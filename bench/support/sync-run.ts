/**
 * What the runs of `bun run bench:sync` share: the schedule of a run (start, seek ~30 s in),
 * the result they report, the browser, and the figures both variants are measured by.
 */
import { chromium, type Browser } from '@playwright/test';
import type { HostLedRelay } from './host-led';
import type { LatencyCondition, LatencyProxy } from './latency-proxy';
import { startLoadMeter, waitForQuiet, type MachineLoad } from './machine';
import type { ProbeData } from './page-probes';
import {
	measureConvergence,
	measureFrameInterval,
	measurePairOffsets,
	measureStartErrors,
	measureWallOffset,
	smoothErrors,
	summarize,
	toReferenceFrames,
	type Frame,
	type Summary
} from './sync-analysis';

/** The same Chromium flags as playwright.config.ts. */
export const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--headless',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--no-first-run',
	'--disable-quic'
];

export const STAGE_ID = 'clip';
/** The seek comes this long after the start, and goes back to `SEEK_TO_S`. */
export const SEEK_AFTER_MS = 30_000;
export const SEEK_TO_S = 10;
/** Playing on after the seek takes effect, ms. */
export const PLAY_AFTER_SEEK_MS = 21_000;
/** Steady state: from this long after the start, and not within this long after the seek. */
export const STEADY_AFTER_START_MS = 5_000;
export const STEADY_AFTER_SEEK_MS = 3_000;
/** Clock error: reports from this long after the page's socket opened. */
export const CLOCK_SETTLE_MS = 5_000;
/** The smoothed error averages each frame with its neighbours within this, ms. */
const SMOOTHING_HALF_WINDOW_MS = 250;

export type RunResult = {
	variant: 'schedule' | 'host-led';
	condition: string;
	label: string;
	/** |reported offset − true offset|, ms (steady state), and the mean signed error. */
	clockErrorMs: Summary;
	clockBiasMs: number | null;
	/** |display time of the same frame on two pages|, ms, over all 6 pairs, steady state. */
	pairwiseMs: Summary;
	/** Per pair, the mean of the signed display-time differences, ms: where the media clocks sit. */
	pairMeanMs: number[];
	/** |error of each frame against the target|, ms, steady state (host-led: viewers vs host). */
	targetErrorMs: Summary;
	/** From the scheduled start (host-led: the host's play) until all pages hold ±20 ms for 1 s. */
	convergeAfterStartMs: number | null;
	/** The same from the seek's effective time (host-led: the host's seek). */
	convergeAfterSeekMs: number | null;
	/** The same on each frame's error averaged over ±250 ms (the media clock, not the refresh). */
	smoothedConvergeAfterStartMs: number | null;
	smoothedConvergeAfterSeekMs: number | null;
	/** Each page's error as it started moving, ms (negative: late), at the start and the seek. */
	startErrorMs: (number | null)[];
	seekErrorMs: (number | null)[];
	/** Seeks each page's controller made (host-led: each viewer's). */
	seeksPerPage: number[];
	/** Share of steady-state sync reports whose controller phase was `locked` (schedule only). */
	lockedShare: number | null;
	/**
	 * Each page's play latency at the end of the run, ms: what its starts learned (schedule only;
	 * the first start assumes the default).
	 */
	playLatencyMs: (number | null)[];
	/** Median spacing of displayed frames, ms, per page. */
	frameIntervalMs: (number | null)[];
	/** Delays the proxies really applied while the video played, ms. */
	appliedUpMs: Summary;
	appliedDownMs: Summary;
	/** The machine over the run, and how busy it was in the second before the run began. */
	machine: MachineLoad & { busyBeforePercent: number };
	/** Largest drift of a page clock against the wall clock over the run, ms (should be ~0). */
	pageClockDriftMs: number;
	framesPerPage: number[];
	notes: string[];
	/** Every frame on the reference clock and the run's moments, for a closer look (`--raw`). */
	raw?: {
		frames: Frame[][];
		startAt: number;
		seekFrom: number;
		seekAt: number;
		end: number;
		/** Each page's sync.quality reports, `t` moved onto the reference clock. */
		reports?: { t: number; value: unknown }[][];
	};
};

export type RunSetup = {
	server: { url: string; origin: string };
	cookie: string;
	link: string;
	appProxies: LatencyProxy[];
	relay: HostLedRelay;
	relayProxies: LatencyProxy[];
};

/** The moments of a run on its reference clock, ms. */
export type Timeline = { startAt: number; seekFrom: number; seekAt: number; end: number };

type PlaybackFigures = Pick<
	RunResult,
	| 'pairwiseMs'
	| 'pairMeanMs'
	| 'targetErrorMs'
	| 'convergeAfterStartMs'
	| 'convergeAfterSeekMs'
	| 'smoothedConvergeAfterStartMs'
	| 'smoothedConvergeAfterSeekMs'
	| 'startErrorMs'
	| 'seekErrorMs'
	| 'frameIntervalMs'
	| 'framesPerPage'
>;

/**
 * The figures both variants share. `judged` are the pages held to a target and `errorOf` their
 * error against it (ms); the pairwise offsets are over all pages.
 */
export function measurePlayback(
	frames: Frame[][],
	judged: Frame[][],
	errorOf: (frame: Frame, page: number) => number | undefined,
	{ startAt, seekFrom, seekAt, end }: Timeline
): PlaybackFigures {
	const steady = (at: number) =>
		at >= startAt + STEADY_AFTER_START_MS &&
		at <= end &&
		!(at >= seekFrom && at < seekAt + STEADY_AFTER_SEEK_MS);
	const pairs = measurePairOffsets(frames, steady);
	const smoothed = smoothErrors(judged, errorOf, SMOOTHING_HALF_WINDOW_MS);
	const targetErrors = judged.flatMap((list, page) =>
		list.filter((frame) => steady(frame.at)).flatMap((frame) => errorOf(frame, page) ?? [])
	);
	return {
		pairwiseMs: summarize(pairs.flatMap(({ offsets }) => offsets.map(Math.abs))),
		pairMeanMs: pairs.map(({ offsets }) => summarize(offsets).mean ?? Number.NaN),
		targetErrorMs: summarize(targetErrors.map(Math.abs)),
		convergeAfterStartMs: measureConvergence(judged, errorOf, startAt, seekFrom),
		convergeAfterSeekMs: measureConvergence(judged, errorOf, seekAt, end),
		smoothedConvergeAfterStartMs: measureConvergence(judged, smoothed, startAt, seekFrom),
		smoothedConvergeAfterSeekMs: measureConvergence(judged, smoothed, seekAt, end),
		startErrorMs: measureStartErrors(judged, errorOf, startAt, 0),
		seekErrorMs: measureStartErrors(judged, errorOf, seekAt, SEEK_TO_S),
		frameIntervalMs: frames.map(measureFrameInterval),
		framesPerPage: frames.map((list) => list.length)
	};
}

export function setCondition(
	proxies: LatencyProxy[],
	condition: LatencyCondition,
	seed: number
): void {
	proxies.forEach((proxy, i) => proxy.setCondition(condition, seed * 100 + i));
}

/** Waits for a quiet machine, then starts measuring it. */
export async function meterMachine(): Promise<() => RunResult['machine']> {
	const busyBeforePercent = await waitForQuiet(40, 10_000);
	const stop = startLoadMeter();
	return () => ({ ...stop(), busyBeforePercent });
}

export function measureApplied(
	proxies: LatencyProxy[]
): Pick<RunResult, 'appliedUpMs' | 'appliedDownMs'> {
	return {
		appliedUpMs: summarize(proxies.flatMap((proxy) => proxy.applied.up)),
		appliedDownMs: summarize(proxies.flatMap((proxy) => proxy.applied.down))
	};
}

export function launch(): Promise<Browser> {
	return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Each page's frames on the reference clock, and each page's reference − page clock offset. */
export function alignPages(probes: ProbeData[], referenceMinusWall: number) {
	let drift = 0;
	const offsets = probes.map((probe) => {
		const measured = measureWallOffset(probe.clock);
		if (!measured) throw new Error('a page took no clock samples');
		drift = Math.max(drift, Math.abs(measured.driftMs));
		return referenceMinusWall + measured.wallMinusPageMs;
	});
	const frames = probes.map((probe, i) => toReferenceFrames(probe.frames, offsets[i] as number));
	return { offsets, frames, drift };
}
