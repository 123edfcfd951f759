import { describe, expect, test } from 'bun:test';
import * as fc from 'fast-check';
import type { Row } from '../../src/lib/server/export/dataset';
import {
	canReadRatings,
	formatEventsTsv,
	groupByStage,
	planEventPasses,
	readRatingSample,
	type RatingSample,
	type RatingSpan
} from '../../src/lib/server/export/psych-ds-events';
import {
	KeywordLabels,
	nameDataFile,
	nameEventsFile,
	toKeywordValue
} from '../../src/lib/server/export/psych-ds-names';
import { TELEMETRY_COLUMNS } from '../../src/lib/server/export/telemetry';

function sample(mediaTime: number, value: number, serverTime: number | null = null): RatingSample {
	return { participant: 'p', stageId: 'v', version: 1, mediaTime, serverTime, value };
}

function rows(tsv: string): string[][] {
	return tsv
		.trimEnd()
		.split('\n')
		.map((line) => line.split('\t'));
}

describe('formatEventsTsv', () => {
	test('BIDS header, then onset, duration, value and server time per sample', () => {
		const tsv = formatEventsTsv([sample(1, 3, 1_000), sample(1.1, 4, 1_100)], 0.1);
		expect(rows(tsv)).toEqual([
			['onset', 'duration', 'value', 'server_time'],
			['1', '0.1', '3', '1970-01-01T00:00:01.000Z'],
			['1.1', '0.1', '4', '1970-01-01T00:00:01.100Z']
		]);
		expect(tsv.endsWith('\n')).toBe(true);
	});

	test('duration is the step to the next sample when plausible, the period across seeks and pauses', () => {
		const tsv = formatEventsTsv(
			[sample(0, 1), sample(0.12, 2), sample(30, 3), sample(2, 4), sample(2, 5)],
			0.1
		);
		expect(
			rows(tsv)
				.slice(1)
				.map((row) => row[1])
		).toEqual([
			'0.12', // a late sample: the actual step (within two periods)
			'0.1', // forward seek: one period, not 29.88 s
			'0.1', // backward seek
			'0.1', // no step (paused): one period
			'0.1' // last
		]);
	});

	test('without a known period the median step stands in, and n/a when there is none', () => {
		expect(rows(formatEventsTsv([sample(0, 1), sample(0.5, 2), sample(1, 3)], null))[3]![1]).toBe(
			'0.5'
		);
		expect(rows(formatEventsTsv([sample(4, 1)], null))[1]).toEqual(['4', 'n/a', '1', 'n/a']);
	});

	test('rounds away float noise', () => {
		expect(rows(formatEventsTsv([sample(0.1 + 0.2, 1)], 0.1))[1]![0]).toBe('0.3');
	});
});

describe('groupByStage', () => {
	test('splits by stage and orders each run by server time', () => {
		const a = { ...sample(2, 1, 200), stageId: 'a' };
		const b = { ...sample(1, 2, 100), stageId: 'a' };
		const c = { ...sample(0, 3, 150), stageId: 'b' };
		const groups = groupByStage([a, c, b]);
		expect([...groups.keys()]).toEqual(['a', 'b']);
		expect(groups.get('a')).toEqual([b, a]);
	});
});

describe('readRatingSample', () => {
	const base: Row = Object.fromEntries(TELEMETRY_COLUMNS.map((column) => [column.name, null]));

	test('reads the telemetry dataset of telemetry.ts', () => {
		expect(canReadRatings(TELEMETRY_COLUMNS)).toBe(true);
		expect(canReadRatings([{ name: 'kind', type: 'string', description: '' }])).toBe(false);
	});

	test('prefers the flattened columns and the payload’s sampling time', () => {
		const read = readRatingSample({
			...base,
			kind: 'video.rating',
			participant_id: 'p1',
			version: 2,
			stage_id: 'clip',
			media_time_s: 3.5,
			value: 42,
			server_time: '2025-01-01T00:00:01.000Z',
			payload: JSON.stringify({ stageId: 'clip', mediaTime: 3.5, serverTime: 500, value: 42 })
		});
		expect(read).toEqual({
			ok: true,
			sample: {
				participant: 'p1',
				stageId: 'clip',
				version: 2,
				mediaTime: 3.5,
				serverTime: 500,
				value: 42
			}
		});
	});

	test('falls back to the payload, and to the received time', () => {
		const read = readRatingSample({
			...base,
			kind: 'video.rating',
			participant_id: 'p1',
			server_time: '2025-01-01T00:00:01.000Z',
			payload: JSON.stringify({ stageId: 'clip', mediaTime: 1, value: 7 })
		});
		expect(read.ok && read.sample).toMatchObject({
			stageId: 'clip',
			mediaTime: 1,
			value: 7,
			serverTime: Date.parse('2025-01-01T00:00:01.000Z')
		});
	});

	test('other kinds, samples of no participant and invalid client values are told apart', () => {
		expect(readRatingSample({ ...base, kind: 'sync.quality', participant_id: 'p1' })).toEqual({
			ok: false,
			reason: 'not_rating'
		});
		expect(
			readRatingSample({ ...base, kind: 'video.rating', stage_id: 'v', media_time_s: 1, value: 1 })
		).toEqual({ ok: false, reason: 'no_participant' });
		for (const payload of [
			{ stageId: 'v', mediaTime: -1, value: 1 },
			{ stageId: 'v', mediaTime: 1, value: 'high' },
			{ stageId: '', mediaTime: 1, value: 1 },
			'not json'
		]) {
			expect(
				readRatingSample({
					...base,
					kind: 'video.rating',
					participant_id: 'p1',
					payload: typeof payload === 'string' ? payload : JSON.stringify(payload)
				})
			).toEqual({ ok: false, reason: 'malformed' });
		}
	});
});

describe('planEventPasses', () => {
	const spans = (list: [string, RatingSpan][]) => new Map(list);

	test('contiguous participants share one pass, whatever their total', () => {
		const passes = planEventPasses(
			spans([
				['a', { count: 8, first: 0, last: 7 }],
				['b', { count: 8, first: 8, last: 15 }],
				['c', { count: 8, first: 16, last: 23 }]
			]),
			10
		);
		expect(passes).toEqual([['a', 'b', 'c']]);
	});

	test('overlapping participants are split to stay under the budget', () => {
		const passes = planEventPasses(
			spans([
				['a', { count: 6, first: 0, last: 20 }],
				['b', { count: 6, first: 1, last: 21 }],
				['c', { count: 3, first: 2, last: 22 }]
			]),
			10
		);
		expect(passes).toEqual([['a', 'c'], ['b']]);
	});

	test('a participant above the budget gets a pass alone', () => {
		expect(planEventPasses(spans([['a', { count: 50, first: 0, last: 49 }]]), 10)).toEqual([['a']]);
	});

	test('property: every participant once, and no pass can hold more than the budget', () => {
		const spanArbitrary = fc
			.tuple(fc.nat(100), fc.nat(30), fc.integer({ min: 1, max: 12 }))
			.map(([first, length, count]) => ({ first, last: first + length, count }));
		fc.assert(
			fc.property(
				fc.array(spanArbitrary, { maxLength: 20 }),
				fc.integer({ min: 1, max: 30 }),
				(list, budget) => {
					const map = new Map(list.map((span, index) => [`p${index}`, span]));
					const passes = planEventPasses(map, budget);
					expect(passes.flat().sort()).toEqual([...map.keys()].sort());
					for (const pass of passes) {
						// Worst case at any stream position: every span open there is buffered in full.
						// One participant alone may exceed the budget: their samples must be sorted.
						for (let position = 0; position <= 130; position++) {
							const open = pass
								.map((participant) => map.get(participant)!)
								.filter((span) => span.first <= position && position <= span.last);
							const held = open.reduce((sum, span) => sum + span.count, 0);
							if (open.length > 1) expect(held).toBeLessThanOrEqual(budget);
						}
					}
				}
			)
		);
	});
});

describe('file names', () => {
	test('keyword values keep letters and digits only', () => {
		expect(toKeywordValue('clip-1_b')).toBe('clip1b');
		expect(toKeywordValue('--')).toBe('x');
		expect(nameDataFile('abc', 'responses')).toBe('data/study-abc_description-responses_data.csv');
		expect(nameEventsFile('p1', 'clip1')).toBe('data/sub-p1/sub-p1_task-clip1_events.tsv');
	});

	test('two ids that clean to the same value get different labels, stably', () => {
		const labels = new KeywordLabels();
		expect(labels.labelOf('video-1')).toBe('video1');
		expect(labels.labelOf('video_1')).toBe('video12');
		expect(labels.labelOf('video12')).toBe('video122');
		expect(labels.labelOf('video-1')).toBe('video1');
	});
});
