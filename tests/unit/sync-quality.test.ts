import { describe, expect, test } from 'bun:test';
import * as v from 'valibot';
import {
	nearestRankPercentile,
	RatingSampleSchema,
	summarizeRatings,
	summarizeSyncQuality,
	SyncQualitySampleSchema,
	type MemberSample,
	type SyncQualitySample
} from '../../src/lib/sync';

const base: SyncQualitySample = {
	stageId: 'clip',
	errorMs: 0,
	rate: 1,
	offsetMs: 120,
	rttMs: 40,
	uncertaintyMs: 8,
	phase: 'locked',
	seeks: 0
};
const sample = (memberId: string, value: Partial<SyncQualitySample>): MemberSample => ({
	memberId,
	value: { ...base, ...value }
});

describe('nearestRankPercentile', () => {
	test('the smallest value with at least p% at or below it, never interpolated', () => {
		const values = Array.from({ length: 20 }, (_, i) => (i + 1) * 10); // 10 … 200
		expect(nearestRankPercentile(values, 50)).toBe(100); // rank ceil(10) = 10
		expect(nearestRankPercentile(values, 95)).toBe(190); // rank ceil(19) = 19
		expect(nearestRankPercentile(values, 100)).toBe(200);
		expect(nearestRankPercentile([3, 7, 9], 50)).toBe(7); // rank ceil(1.5) = 2
		expect(nearestRankPercentile([3, 7, 9], 95)).toBe(9); // rank ceil(2.85) = 3
		expect(nearestRankPercentile([5], 1)).toBe(5);
		expect(nearestRankPercentile([], 50)).toBeNull();
	});
});

describe('SyncQualitySampleSchema', () => {
	test('accepts the documented value; extra fields from a newer client are ignored', () => {
		expect(v.is(SyncQualitySampleSchema, base)).toBe(true);
		expect(v.is(SyncQualitySampleSchema, { ...base, errorMs: -35.5, phase: 'stalled' })).toBe(true);
		expect(v.is(SyncQualitySampleSchema, { ...base, buffered: 3 })).toBe(true);
	});

	test('refuses non-finite or absurd numbers, unknown phases and missing fields', () => {
		const bad: unknown[] = [
			{ ...base, errorMs: Number.NaN },
			{ ...base, errorMs: Number.POSITIVE_INFINITY },
			{ ...base, errorMs: 1e12 },
			{ ...base, rate: -1 },
			{ ...base, rate: 100 },
			{ ...base, rttMs: -5 },
			{ ...base, uncertaintyMs: -1 },
			{ ...base, offsetMs: 1e16 },
			{ ...base, seeks: 1.5 },
			{ ...base, seeks: -1 },
			{ ...base, phase: 'dancing' },
			{ ...base, stageId: '' },
			{ ...base, stageId: 'x'.repeat(65) },
			{ ...base, errorMs: '12' },
			{ stageId: 'clip', errorMs: 1 },
			null,
			42
		];
		for (const value of bad)
			expect({ value, ok: v.is(SyncQualitySampleSchema, value) }).toEqual({
				value,
				ok: false
			});
	});
});

describe('summarizeSyncQuality', () => {
	test('error percentiles are nearest-rank over |errorMs| of the steady samples', () => {
		// 20 steady samples with |error| 1 … 20 ms, signs alternating.
		const samples = Array.from({ length: 20 }, (_, i) =>
			sample('p1', {
				errorMs: (i % 2 === 0 ? 1 : -1) * (i + 1),
				phase: i < 10 ? 'locked' : 'correcting'
			})
		);
		const { members, invalid } = summarizeSyncQuality(samples);
		expect(invalid).toBe(0);
		expect(members).toEqual([
			{
				memberId: 'p1',
				stageId: 'clip',
				samples: 20,
				errorMs: { p50: 10, p95: 19, max: 20 },
				stalledSeconds: 0,
				seeks: 0,
				rttMs: { p50: 40 },
				uncertaintyMs: { p50: 8 },
				offsetMs: { p50: 120 }
			}
		]);
	});

	test('seeking, stalled, paused and idle samples are left out of the error', () => {
		const summary = summarizeSyncQuality([
			sample('p1', { errorMs: 5, phase: 'locked' }),
			sample('p1', { errorMs: -7, phase: 'correcting' }),
			sample('p1', { errorMs: 4_000, phase: 'seeking', seeks: 1 }),
			sample('p1', { errorMs: 900, phase: 'stalled', seeks: 1 }),
			sample('p1', { errorMs: 1_200, phase: 'stalled', seeks: 1 }),
			sample('p1', { errorMs: 30_000, phase: 'paused', seeks: 1 }),
			sample('p1', { errorMs: 50_000, phase: 'idle', seeks: 1 })
		]).members[0]!;
		expect(summary.samples).toBe(7);
		expect(summary.errorMs).toEqual({ p50: 5, p95: 7, max: 7 });
		expect(summary.stalledSeconds).toBe(2);
		expect(summary.seeks).toBe(1);
	});

	test('no steady sample at all: null percentiles, the rest still summarized', () => {
		const summary = summarizeSyncQuality([
			sample('p1', { phase: 'stalled', rttMs: 30 }),
			sample('p1', { phase: 'seeking', rttMs: 50, seeks: 3 }),
			sample('p1', { phase: 'paused', rttMs: 70, seeks: 2 })
		]).members[0]!;
		expect(summary.errorMs).toEqual({ p50: null, p95: null, max: null });
		expect(summary.stalledSeconds).toBe(1);
		expect(summary.seeks).toBe(3); // the largest counter seen, not the last
		expect(summary.rttMs.p50).toBe(50);
	});

	test('clock medians use every phase (the clock does not care what the player does)', () => {
		const summary = summarizeSyncQuality([
			sample('p1', { phase: 'locked', offsetMs: -10, rttMs: 20, uncertaintyMs: 3 }),
			sample('p1', { phase: 'stalled', offsetMs: -30, rttMs: 90, uncertaintyMs: 9 }),
			sample('p1', { phase: 'paused', offsetMs: -20, rttMs: 60, uncertaintyMs: 6 })
		]).members[0]!;
		expect(summary.offsetMs.p50).toBe(-20);
		expect(summary.rttMs.p50).toBe(60);
		expect(summary.uncertaintyMs.p50).toBe(6);
	});

	test('invalid samples are skipped and counted', () => {
		const { members, invalid } = summarizeSyncQuality([
			sample('p1', { errorMs: 3 }),
			{ memberId: 'p1', value: { ...base, errorMs: Number.NaN } },
			{ memberId: 'p1', value: { ...base, phase: 'buffering' } },
			{ memberId: 'p2', value: 'not an object' },
			{ memberId: 'p2', value: null }
		]);
		expect(invalid).toBe(4);
		expect(members).toHaveLength(1);
		expect(members[0]).toMatchObject({ memberId: 'p1', samples: 1, errorMs: { p50: 3 } });
	});

	test('one summary per member and stage, sorted by member then stage', () => {
		const { members } = summarizeSyncQuality([
			sample('p2', { stageId: 'clip-b', errorMs: 40 }),
			sample('p1', { stageId: 'clip-b', errorMs: 20 }),
			sample('p1', { stageId: 'clip-a', errorMs: 10 }),
			sample('p2', { stageId: 'clip-a', errorMs: 30, seeks: 2 }),
			sample('p1', { stageId: 'clip-a', errorMs: -12 }),
			sample('p2', { stageId: 'clip-a', errorMs: 35, phase: 'stalled', seeks: 4 })
		]);
		expect(members.map((m) => [m.memberId, m.stageId, m.samples, m.errorMs.max, m.seeks])).toEqual([
			['p1', 'clip-a', 2, 12, 0],
			['p1', 'clip-b', 1, 20, 0],
			['p2', 'clip-a', 2, 30, 4],
			['p2', 'clip-b', 1, 40, 0]
		]);
	});

	test('nothing in, nothing out', () => {
		expect(summarizeSyncQuality([])).toEqual({ members: [], invalid: 0 });
	});
});

describe('ratings', () => {
	const rating = (memberId: string, value: Record<string, unknown>): MemberSample => ({
		memberId,
		value: { stageId: 'clip', mediaTime: 1.5, serverTime: 1_700_000_000_000, value: 0.4, ...value }
	});

	test('RatingSampleSchema takes the documented value and refuses garbage', () => {
		expect(v.is(RatingSampleSchema, rating('p1', {}).value)).toBe(true);
		for (const bad of [
			{ mediaTime: -1 },
			{ serverTime: Number.NaN },
			{ value: Number.POSITIVE_INFINITY },
			{ value: '3' },
			{ stageId: '' }
		]) {
			expect(v.is(RatingSampleSchema, rating('p1', bad).value)).toBe(false);
		}
	});

	test('counted per member and stage with the first and last server time', () => {
		const summary = summarizeRatings([
			rating('p1', { serverTime: 2_000 }),
			rating('p1', { serverTime: 1_000 }),
			rating('p1', { serverTime: 3_000 }),
			rating('p1', { stageId: 'other', serverTime: 5_000 }),
			rating('p2', { serverTime: 4_000 }),
			rating('p2', { value: Number.NaN }),
			{ memberId: 'p3', value: 7 }
		]);
		expect(summary).toEqual({
			ratings: [
				{
					memberId: 'p1',
					stageId: 'clip',
					samples: 3,
					firstServerTime: 1_000,
					lastServerTime: 3_000
				},
				{
					memberId: 'p1',
					stageId: 'other',
					samples: 1,
					firstServerTime: 5_000,
					lastServerTime: 5_000
				},
				{
					memberId: 'p2',
					stageId: 'clip',
					samples: 1,
					firstServerTime: 4_000,
					lastServerTime: 4_000
				}
			],
			invalid: 2
		});
	});
});
