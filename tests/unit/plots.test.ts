import { describe, expect, test } from 'bun:test';
import { computeCoherence, synthesizeRrIntervals } from '../../src/lib/signals';
import {
	binIndexOf,
	binMeans,
	binStarts,
	countValues,
	makeGrid,
	meanAcross
} from '../../src/lib/server/plots/binning';
import {
	buildCoherencePlot,
	coherenceAt,
	estimateDeviceOffset,
	listBeats
} from '../../src/lib/server/plots/coherence-series';
import { computeFunnel, isConsented } from '../../src/lib/server/plots/funnel';
import { listStageRuns, summarizeStageDurations } from '../../src/lib/server/plots/stage-durations';
import {
	buildRatingsPlot,
	buildSyncPlot,
	MAX_PLOT_POINTS,
	type TelemetryRow
} from '../../src/lib/server/plots/telemetry-series';

// The plots' maths: bounded binning on one grid, ratings and sync series from telemetry rows,
// coherence rebuilt from beats like the live metric, stage durations from the log, the funnel.

const T0 = 1_732_000_000_000;

describe('binning', () => {
	test('a grid has at most maxBins bins, none narrower than minWidth, and covers its end', () => {
		expect(makeGrid(0, 10, 100, 1)).toEqual({ start: 0, width: 1, count: 11 });
		expect(makeGrid(0, 990, 100, 1)).toEqual({ start: 0, width: 10, count: 100 });
		expect(makeGrid(5, 5, 100, 1)).toEqual({ start: 5, width: 1, count: 1 });
		const long = makeGrid(0, 7_200_000, MAX_PLOT_POINTS, 1_000);
		expect(long.count).toBeLessThanOrEqual(MAX_PLOT_POINTS);
		expect(binIndexOf(long, 7_200_000)).toBe(long.count - 1);
		expect(binIndexOf(long, -1)).toBe(-1);
		expect(binIndexOf(long, 7_200_001 + long.width)).toBe(-1);
		expect(binStarts(makeGrid(0, 3, 10, 1))).toEqual([0, 1, 2, 3]);
	});

	test('bin means, empty bins as null, non-finite values skipped', () => {
		const grid = makeGrid(0, 3, 4, 1);
		const values = binMeans(
			[
				{ x: 0, y: 1 },
				{ x: 0.5, y: 3 },
				{ x: 2.2, y: 10 },
				{ x: 3, y: 7 },
				{ x: 2.5, y: Number.NaN },
				{ x: 99, y: 1 }
			],
			grid
		);
		expect(values).toEqual([2, null, 10, 7]);
		expect(grid).toEqual({ start: 0, width: 1, count: 4 });
		expect(countValues(values)).toBe(3);
	});

	test('the mean across lines weighs each line once, over the lines that have a value', () => {
		expect(
			meanAcross(
				[
					[1, null, 4, null],
					[3, 5, null, null]
				],
				4
			)
		).toEqual([2, 5, 4, null]);
	});
});

const row = (
	memberId: string,
	clientTime: number,
	value: unknown,
	receivedAt = clientTime
): TelemetryRow => ({
	memberId,
	clientTime,
	receivedAt,
	value
});

describe('ratings and sync series', () => {
	test('ratings per video stage over media time, per member and the group mean', () => {
		const rating = (stageId: string, mediaTime: number, value: number) => ({
			stageId,
			mediaTime,
			serverTime: T0 + mediaTime * 1000,
			value
		});
		const rows = [
			row('a', T0, rating('film', 0.2, 1)),
			row('a', T0, rating('film', 0.7, 3)),
			row('a', T0, rating('film', 2.1, 5)),
			row('b', T0, rating('film', 0.4, 6)),
			row('b', T0, rating('film', 1.5, 4)),
			row('b', T0, rating('clip', 3, 9)),
			row('b', T0, { stageId: 'film', mediaTime: -1, value: 2 })
		];
		const plot = buildRatingsPlot(rows, {
			labels: { a: 'M1', b: 'M2' },
			stageTitles: new Map([
				['clip', 'Clip'],
				['film', 'Film']
			])
		});
		expect(plot.invalid).toBe(1);
		expect(plot.stages.map((s) => s.stageId)).toEqual(['clip', 'film']);
		const film = plot.stages[1]!;
		expect(film).toMatchObject({ title: 'Film', x: [0, 1, 2], binSeconds: 1, samples: 5 });
		expect(film.members).toEqual([
			{ memberId: 'a', label: 'M1', values: [2, null, 5] },
			{ memberId: 'b', label: 'M2', values: [6, 4, null] }
		]);
		expect(film.mean).toEqual([4, 4, 5]);
	});

	test('sync error, offset and rtt on one grid of server time since the start', () => {
		const sample = (errorMs: number, offsetMs: number, rttMs: number, phase = 'locked') => ({
			stageId: 'film',
			errorMs,
			rate: 1,
			offsetMs,
			rttMs,
			uncertaintyMs: 3,
			phase,
			seeks: 0
		});
		// a's clock is 500 ms behind the server, b's 2 s ahead: both report at server T0+10 s…
		const rows = [
			row('a', T0 + 10_000 - 500, sample(12, 500, 40)),
			row('a', T0 + 11_000 - 500, sample(-8, 500, 44)),
			row('b', T0 + 10_000 + 2_000, sample(30, -2_000, 80)),
			row('b', T0 + 12_000 + 2_000, sample(20, -2_000, 90)),
			row('b', T0, sample(1, 0, 1, 'buffering'))
		];
		const plot = buildSyncPlot(rows, { labels: { a: 'M1', b: 'M2' }, startedAt: T0 });
		expect(plot).toMatchObject({ x: [10, 11, 12], binSeconds: 1, samples: 4, invalid: 1 });
		expect(plot.errorMs.map((l) => [l.label, l.values])).toEqual([
			['M1', [12, -8, null]],
			['M2', [30, null, 20]]
		]);
		expect(plot.offsetMs[1]!.values).toEqual([-2_000, null, -2_000]);
		expect(plot.rttMs[0]!.values).toEqual([40, 44, null]);
		expect(buildSyncPlot([], { labels: {}, startedAt: T0 })).toMatchObject({ x: [], samples: 0 });
	});

	test('a long session stays within the point budget', () => {
		const rows = Array.from({ length: 7_200 }, (_, i) =>
			row('a', T0 + i * 1_000, {
				stageId: 'film',
				errorMs: i % 7,
				rate: 1,
				offsetMs: 0,
				rttMs: 30,
				uncertaintyMs: 2,
				phase: 'locked',
				seeks: 0
			})
		);
		const plot = buildSyncPlot(rows, { labels: {}, startedAt: T0 });
		expect(plot.x.length).toBeLessThanOrEqual(MAX_PLOT_POINTS);
		expect(plot.binSeconds).toBeCloseTo(7_199 / (MAX_PLOT_POINTS - 1), 6);
		expect(countValues(plot.errorMs[0]!.values)).toBe(plot.x.length);
		expect(plot.errorMs[0]!.label).toBe('a');
	});
});

describe('coherence over time', () => {
	/** A device that sent `seconds` of beats in batches of 10, stamped on its own clock. */
	function deviceRows(
		memberId: string,
		seconds: number,
		seed: number,
		clockSkewMs: number,
		hz = 0.1
	) {
		const intervals = synthesizeRrIntervals({
			seconds,
			meanMs: 900,
			rhythms: [{ hz, amplitudeMs: 90 }],
			noiseMs: 5,
			seed
		});
		const rows: (TelemetryRow & { kind: string })[] = [];
		let end = T0;
		for (let i = 0; i < intervals.length; i += 10) {
			const batch = intervals.slice(i, i + 10);
			end += batch.reduce((sum, rr) => sum + rr, 0);
			// Received 80 ms (plus jitter) after it was sent; the device clock is skewed.
			rows.push({
				memberId,
				kind: 'signal.rr',
				clientTime: end + clockSkewMs,
				receivedAt: end + 80 + (i % 3) * 20,
				value: batch
			});
		}
		return { rows, intervals };
	}

	test('beats are rebuilt in order and aligned to server time by the fastest delivery', () => {
		const { rows, intervals } = deviceRows('a', 120, 1, -30_000);
		const offset = estimateDeviceOffset(rows);
		expect(offset).toBe(30_080);
		const beats = listBeats([...rows].reverse(), offset);
		expect(beats.map((b) => b.rr)).toEqual(intervals);
		expect(beats.at(-1)!.at).toBeCloseTo(T0 + intervals.reduce((s, rr) => s + rr, 0) + 80, 6);
		// The score at the end equals the live metric's score of the same beats.
		expect(coherenceAt(beats, beats.at(-1)!.at)).toBeCloseTo(
			(computeCoherence(intervals) as { score: number }).score,
			6
		);
		// Silent for longer than the live metric tolerates: no score.
		expect(coherenceAt(beats, beats.at(-1)!.at + 11_000)).toBeNull();
		expect(coherenceAt(beats, T0)).toBeNull();
	});

	test('per member scores over the session with the group mean; a paced breather scores high', () => {
		const paced = deviceRows('a', 240, 2, 0, 0.1);
		const irregular = deviceRows('b', 240, 3, 5_000, 0.1);
		// b breathes irregularly: several rhythms and more noise.
		irregular.rows.forEach((r, i) => {
			r.value = (r.value as number[]).map((rr, j) => rr + 120 * Math.sin(i * 1.7 + j * 2.3));
		});
		const plot = buildCoherencePlot([...paced.rows, ...irregular.rows], {
			labels: { a: 'M1', b: 'M2' },
			startedAt: T0
		});
		expect(plot.source).toBe('rr');
		expect(plot.stepSeconds).toBe(5);
		expect(plot.members.map((m) => m.label)).toEqual(['M1', 'M2']);
		// The first score needs a full 64 s window of beats.
		expect(plot.x[0]!).toBeGreaterThanOrEqual(64);
		const mean = (values: (number | null)[]) => {
			const present = values.filter((v): v is number => v !== null);
			return present.reduce((s, v) => s + v, 0) / present.length;
		};
		const [a, b] = plot.members.map((m) => m.values);
		expect(countValues(a!)).toBeGreaterThan(20);
		expect(mean(a!)).toBeGreaterThan(mean(b!) + 20);
		plot.mean.forEach((value, i) => {
			const present = [a![i], b![i]].filter((v): v is number => v !== null);
			if (present.length === 0) expect(value).toBeNull();
			else expect(value).toBeCloseTo(present.reduce((s, v) => s + v, 0) / present.length, 6);
		});
	});

	test('reported scores are used as sent; nothing to show says so', () => {
		const rows = [0, 5_000, 10_000].map((t, i) => ({
			memberId: 'a',
			kind: 'signal.coherence',
			clientTime: T0 + t,
			receivedAt: T0 + t + 50,
			value: [40, 60, 80][i]!
		}));
		const plot = buildCoherencePlot(rows, { labels: {}, startedAt: T0 });
		expect(plot.source).toBe('reported');
		expect(plot.x).toEqual([0.05, 5.05, 10.05]);
		expect(plot.members[0]!.values).toEqual([40, 60, 80]);
		expect(buildCoherencePlot([], { labels: {}, startedAt: T0 }).source).toBe('none');
	});
});

describe('stage durations', () => {
	const advanced = (from: string, to: string, at: number) => ({
		name: 'stage.advanced',
		at: at + 5,
		payload: { fromStageId: from, toStageId: to, toIndex: 0, at, deadline: null, cause: 'timer' }
	});

	test('runs start at formation, end at each advance and at the finish; running ones stay open', () => {
		const runs = listStageRuns({ stageId: 'intro', at: 0 }, [
			advanced('intro', 'talk', 10_000),
			advanced('talk', 'end', 70_000),
			{ name: 'room.finished', at: 70_010, payload: { at: 70_000, outcome: 'completed' } }
		]);
		expect(runs).toEqual([
			{ stageId: 'intro', startedAt: 0, endedAt: 10_000 },
			{ stageId: 'talk', startedAt: 10_000, endedAt: 70_000 },
			{ stageId: 'end', startedAt: 70_000, endedAt: 70_000 }
		]);
		expect(listStageRuns({ stageId: 'intro', at: 0 }, [advanced('intro', 'talk', 4_000)])).toEqual([
			{ stageId: 'intro', startedAt: 0, endedAt: 4_000 },
			{ stageId: 'talk', startedAt: 4_000, endedAt: null }
		]);
	});

	test('summaries per stage over rooms, in the study order; open runs are left out', () => {
		const titles = new Map([
			['intro', 'Intro'],
			['talk', 'Talk'],
			['end', 'End']
		]);
		const rows = summarizeStageDurations(
			[
				{ stageId: 'talk', startedAt: 0, endedAt: 60_000 },
				{ stageId: 'intro', startedAt: 0, endedAt: 10_000 },
				{ stageId: 'intro', startedAt: 0, endedAt: 30_000 },
				{ stageId: 'intro', startedAt: 0, endedAt: 20_000 },
				{ stageId: 'talk', startedAt: 0, endedAt: null },
				{ stageId: 'gone', startedAt: 0, endedAt: 1_000 }
			],
			titles
		);
		expect(rows.map((r) => r.stageId)).toEqual(['intro', 'talk', 'gone']);
		expect(rows[0]).toEqual({
			stageId: 'intro',
			title: 'Intro',
			count: 3,
			median: 20,
			p25: 10,
			p75: 30,
			min: 10,
			max: 30,
			mean: 20
		});
		expect(rows[1]).toMatchObject({ count: 1, median: 60 });
		expect(rows[2]).toMatchObject({ title: 'gone', count: 1 });
	});
});

describe('outcome funnel', () => {
	const person = (over: Partial<Parameters<typeof isConsented>[0]> = {}) => ({
		isBot: false,
		hasConsentStage: true,
		agreed: true,
		matched: true,
		outcome: 'completed' as string | null,
		...over
	});

	test('consent: agreed and not declined later, or no consent stage at all', () => {
		expect(isConsented(person())).toBe(true);
		expect(isConsented(person({ agreed: false, outcome: 'no_consent' }))).toBe(false);
		expect(isConsented(person({ agreed: true, outcome: 'no_consent' }))).toBe(false);
		expect(isConsented(person({ agreed: false, outcome: null }))).toBe(false);
		expect(isConsented(person({ hasConsentStage: false, agreed: false }))).toBe(true);
	});

	test('each step counted, people and bots apart, grouped rows weighed by their count', () => {
		const steps = computeFunnel([
			person(),
			person({ count: 3, matched: false, outcome: 'lobby_timeout' }),
			person({ agreed: false, matched: false, outcome: 'no_consent' }),
			person({ agreed: false, matched: false, outcome: null }),
			person({ matched: true, outcome: 'dropout' }),
			person({ isBot: true, count: 2, hasConsentStage: false, agreed: false }),
			person({ isBot: true, outcome: null })
		]);
		expect(steps.map((s) => [s.step, s.label, s.participants, s.bots])).toEqual([
			['arrived', 'Arrived', 7, 3],
			['consented', 'Consented', 5, 3],
			['matched', 'Matched', 2, 3],
			['completed', 'Completed', 1, 2]
		]);
	});
});
