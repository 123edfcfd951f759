/**
 * Plot series from a room's stored telemetry (pure): continuous ratings over media time, and
 * sync error, clock offset and round trip over the session. Samples are validated with the
 * same schemas as the sync report; invalid ones are counted, never drawn.
 */
import * as v from 'valibot';
import { RatingSampleSchema, SyncQualitySampleSchema } from '../../sync/quality';
import { binMeans, binStarts, makeGrid, meanAcross, rangeOf, type Point } from './binning';
import type { PlotLine, RatingStagePlot, RatingsPlot, SyncPlot } from './types';

/** One stored sample: who sent it, their clock's time, when the server stored it. */
export type TelemetryRow = {
	memberId: string;
	/** `telemetry_samples.client_time`: ms since the epoch on the sender's clock. */
	clientTime: number;
	/** `telemetry_samples.received_at`, ms since the epoch. */
	receivedAt: number;
	value: unknown;
};

/** Labels for member ids (e.g. `M1`), with a fallback for ids not in the room's log. */
export type MemberLabels = Record<string, string>;

/**
 * At most this many points per line. A chart a few hundred pixels wide shows no more, and a
 * room of 8 with three lines each stays well under 100 KB of JSON.
 */
export const MAX_PLOT_POINTS = 600;
/**
 * Ratings are sampled at a few Hz at most (the stage's rate), so bins under a second would be
 * mostly empty; one second also matches how finely people can follow a film.
 */
export const MIN_RATING_BIN_S = 1;
/** Sync reports come about once a second: finer bins would alternate between one and none. */
export const MIN_SYNC_BIN_MS = 1_000;

const labelOf = (labels: MemberLabels, id: string) => labels[id] ?? id.slice(0, 8);

/** Lines per member in label order (M1, M2, … then unknown senders by id). */
function sortedMembers(ids: Iterable<string>, labels: MemberLabels): string[] {
	const order = (id: string) => {
		const match = /^M(\d+)$/.exec(labels[id] ?? '');
		return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
	};
	return [...ids].sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Continuous ratings per video stage, binned over media time from 0 to the last rated second,
 * per member, with the group mean per bin (over the members who rated in it).
 */
export function buildRatingsPlot(
	rows: readonly TelemetryRow[],
	options: { labels: MemberLabels; stageTitles: Map<string, string>; maxBins?: number }
): RatingsPlot {
	const maxBins = options.maxBins ?? MAX_PLOT_POINTS;
	const byStage = new Map<string, Map<string, Point[]>>();
	let invalid = 0;
	for (const row of rows) {
		const parsed = v.safeParse(RatingSampleSchema, row.value);
		if (!parsed.success) {
			invalid++;
			continue;
		}
		const { stageId, mediaTime, value } = parsed.output;
		const members = byStage.get(stageId) ?? new Map<string, Point[]>();
		byStage.set(stageId, members);
		const points = members.get(row.memberId) ?? [];
		members.set(row.memberId, points);
		points.push({ x: mediaTime, y: value });
	}
	const stages: RatingStagePlot[] = [];
	for (const [stageId, members] of byStage) {
		const all = [...members.values()].flat();
		const range = rangeOf(all.map((p) => p.x))!;
		const grid = makeGrid(0, range.max, maxBins, MIN_RATING_BIN_S);
		const lines: PlotLine[] = sortedMembers(members.keys(), options.labels).map((memberId) => ({
			memberId,
			label: labelOf(options.labels, memberId),
			values: binMeans(members.get(memberId)!, grid)
		}));
		stages.push({
			stageId,
			title: options.stageTitles.get(stageId) ?? stageId,
			x: binStarts(grid),
			binSeconds: grid.width,
			members: lines,
			mean: meanAcross(
				lines.map((line) => line.values),
				grid.count
			),
			samples: all.length
		});
	}
	const order = [...options.stageTitles.keys()];
	stages.sort((a, b) => order.indexOf(a.stageId) - order.indexOf(b.stageId));
	return { kind: 'ratings', stages, invalid };
}

/**
 * Sync quality over the session per member: the signed error (positive = behind), the clock
 * offset estimate and the round trip, on one time grid in seconds since `startedAt`. A sample's
 * time is the sender's clock corrected by its own offset estimate, i.e. server time.
 */
export function buildSyncPlot(
	rows: readonly TelemetryRow[],
	options: { labels: MemberLabels; startedAt: number; maxBins?: number }
): SyncPlot {
	const maxBins = options.maxBins ?? MAX_PLOT_POINTS;
	type Lines = { error: Point[]; offset: Point[]; rtt: Point[] };
	const members = new Map<string, Lines>();
	let invalid = 0;
	for (const row of rows) {
		const parsed = v.safeParse(SyncQualitySampleSchema, row.value);
		if (!parsed.success) {
			invalid++;
			continue;
		}
		const sample = parsed.output;
		const x = row.clientTime + sample.offsetMs;
		const lines = members.get(row.memberId) ?? { error: [], offset: [], rtt: [] };
		members.set(row.memberId, lines);
		lines.error.push({ x, y: sample.errorMs });
		lines.offset.push({ x, y: sample.offsetMs });
		lines.rtt.push({ x, y: sample.rttMs });
	}
	const range = rangeOf([...members.values()].flatMap((lines) => lines.error.map((p) => p.x)));
	if (!range) {
		return {
			kind: 'sync',
			x: [],
			binSeconds: MIN_SYNC_BIN_MS / 1000,
			errorMs: [],
			offsetMs: [],
			rttMs: [],
			samples: 0,
			invalid
		};
	}
	const grid = makeGrid(range.min, range.max, maxBins, MIN_SYNC_BIN_MS);
	const ids = sortedMembers(members.keys(), options.labels);
	const linesOf = (pick: (lines: Lines) => Point[]): PlotLine[] =>
		ids.map((memberId) => ({
			memberId,
			label: labelOf(options.labels, memberId),
			values: binMeans(pick(members.get(memberId)!), grid)
		}));
	return {
		kind: 'sync',
		x: binStarts(grid).map((start) => (start - options.startedAt) / 1000),
		binSeconds: grid.width / 1000,
		errorMs: linesOf((lines) => lines.error),
		offsetMs: linesOf((lines) => lines.offset),
		rttMs: linesOf((lines) => lines.rtt),
		samples: rows.length - invalid,
		invalid
	};
}
