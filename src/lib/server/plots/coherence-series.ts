/**
 * Heart-rhythm coherence over a session, rebuilt from stored `signal.rr` telemetry (and scores
 * devices reported as `signal.coherence`) with the same maths as the live group metric: every
 * step, each member's score over the last window of beats, and the group mean. Pure.
 */
import { computeCoherence, DEFAULT_MAX_SAMPLE_AGE_MS, DEFAULT_WINDOW_SECONDS } from '../../signals';
import { RR_SAMPLE_BOUNDS_MS } from '../../signals/samples';
import { binMeans, binStarts, makeGrid, meanAcross, type Point } from './binning';
import { MAX_PLOT_POINTS, type MemberLabels, type TelemetryRow } from './telemetry-series';
import type { CoherencePlot, PlotLine } from './types';

/**
 * 5 s between scores: the window is 64 s, so a finer step only redraws nearly the same
 * spectrum; coarser steps are used when the session is long (at most MAX_PLOT_POINTS).
 */
export const MIN_COHERENCE_STEP_MS = 5_000;
/** Kinds of telemetry read for this plot. */
export const COHERENCE_KINDS = ['signal.rr', 'signal.coherence'] as const;

/** One beat: when it ended (server-aligned ms) and its R-R interval. */
type Beat = { at: number; rr: number };

const isInterval = (value: unknown): value is number =>
	typeof value === 'number' &&
	Number.isFinite(value) &&
	value >= RR_SAMPLE_BOUNDS_MS.min &&
	value <= RR_SAMPLE_BOUNDS_MS.max;

/**
 * How far a member's device clock is behind the server: the smallest `receivedAt − clientTime`
 * over their samples (the one that travelled fastest). Device clocks are not trusted for the
 * time axis, and a batch sent after an outage must not count as its arrival time either.
 */
export function estimateDeviceOffset(rows: readonly TelemetryRow[]): number {
	let offset = Infinity;
	for (const row of rows) offset = Math.min(offset, row.receivedAt - row.clientTime);
	return Number.isFinite(offset) ? offset : 0;
}

/**
 * A member's beats in time order: each `signal.rr` sample is a batch of intervals whose last
 * one ended at the sample's time, so earlier beats ended that many intervals before.
 */
export function listBeats(rows: readonly TelemetryRow[], offsetMs: number): Beat[] {
	const batches = rows
		.filter((row) => Array.isArray(row.value) && row.value.length > 0)
		.sort((a, b) => a.clientTime - b.clientTime);
	const beats: Beat[] = [];
	for (const row of batches) {
		const intervals = (row.value as unknown[]).filter(isInterval);
		let end = row.clientTime + offsetMs;
		const batch: Beat[] = [];
		for (let i = intervals.length - 1; i >= 0; i--) {
			batch.push({ at: end, rr: intervals[i]! });
			end -= intervals[i]!;
		}
		beats.push(...batch.reverse());
	}
	return beats;
}

/** The first index whose beat ended after `t` (beats are in time order). */
function upperBound(beats: readonly Beat[], t: number): number {
	let low = 0;
	let high = beats.length;
	while (low < high) {
		const mid = (low + high) >> 1;
		if (beats[mid]!.at <= t) low = mid + 1;
		else high = mid;
	}
	return low;
}

/**
 * The member's coherence at `t`: the last window of beats that ended by then, or null when
 * there is no full window yet or the device has been silent for longer than the live metric
 * tolerates.
 */
export function coherenceAt(beats: readonly Beat[], t: number): number | null {
	const end = upperBound(beats, t);
	if (end === 0 || t - beats[end - 1]!.at > DEFAULT_MAX_SAMPLE_AGE_MS) return null;
	// A little more than the window: the analysis counts back from the last beat itself.
	const from = upperBound(beats, t - (DEFAULT_WINDOW_SECONDS + 10) * 1000);
	const result = computeCoherence(beats.slice(from, end).map((beat) => beat.rr));
	return result.ok ? result.score : null;
}

/**
 * Coherence per member over the session on one grid of steps, in seconds since `startedAt`,
 * with the group mean per step (over members who have a score then). A member whose device
 * reported scores is shown with those (as the live metric does); others from their beats.
 */
export function buildCoherencePlot(
	rows: readonly (TelemetryRow & { kind: string })[],
	options: { labels: MemberLabels; startedAt: number; maxSteps?: number }
): CoherencePlot {
	const maxSteps = options.maxSteps ?? MAX_PLOT_POINTS;
	const byMember = new Map<string, (TelemetryRow & { kind: string })[]>();
	for (const row of rows) {
		const list = byMember.get(row.memberId) ?? [];
		byMember.set(row.memberId, list);
		list.push(row);
	}
	type Source = { kind: 'rr'; beats: Beat[] } | { kind: 'reported'; points: Point[] };
	const sources = new Map<string, Source>();
	let first = Infinity;
	let last = -Infinity;
	for (const [memberId, memberRows] of byMember) {
		const offset = estimateDeviceOffset(memberRows);
		const reported = memberRows
			.filter((row) => row.kind === 'signal.coherence' && typeof row.value === 'number')
			.map((row) => ({ x: row.clientTime + offset, y: row.value as number }))
			.filter((p) => Number.isFinite(p.y) && p.y >= 0 && p.y <= 100);
		if (reported.length > 0) {
			sources.set(memberId, { kind: 'reported', points: reported });
			for (const p of reported) [first, last] = [Math.min(first, p.x), Math.max(last, p.x)];
			continue;
		}
		const beats = listBeats(
			memberRows.filter((row) => row.kind === 'signal.rr'),
			offset
		);
		if (beats.length === 0) continue;
		sources.set(memberId, { kind: 'rr', beats });
		// The first score needs a full window of beats.
		first = Math.min(first, beats[0]!.at + DEFAULT_WINDOW_SECONDS * 1000);
		last = Math.max(last, beats.at(-1)!.at);
	}
	const kinds = new Set([...sources.values()].map((source) => source.kind));
	const samples = rows.length;
	if (sources.size === 0 || !(first <= last)) {
		return {
			kind: 'coherence',
			x: [],
			stepSeconds: 0,
			members: [],
			mean: [],
			source: 'none',
			samples
		};
	}
	const grid = makeGrid(first, last, maxSteps, MIN_COHERENCE_STEP_MS);
	const starts = binStarts(grid);
	const ids = [...sources.keys()].sort((a, b) =>
		(options.labels[a] ?? a).localeCompare(options.labels[b] ?? b, undefined, { numeric: true })
	);
	const members: PlotLine[] = ids.map((memberId) => {
		const source = sources.get(memberId)!;
		const values =
			source.kind === 'reported'
				? binMeans(source.points, grid)
				: // The score at each step's time: the window of beats that had ended by then.
					starts.map((start) => coherenceAt(source.beats, start));
		return { memberId, label: options.labels[memberId] ?? memberId.slice(0, 8), values };
	});
	return {
		kind: 'coherence',
		x: starts.map((start) => (start - options.startedAt) / 1000),
		stepSeconds: grid.width / 1000,
		members,
		mean: meanAcross(
			members.map((m) => m.values),
			grid.count
		),
		source: kinds.size === 2 ? 'mixed' : kinds.has('rr') ? 'rr' : 'reported',
		samples
	};
}
