import { describe, expect, test } from 'bun:test';
import { bandOf } from '../../src/lib/signals/bands';
import { meanOf, summarizeGroup } from '../../src/lib/signals/group';

describe('bandOf', () => {
	test('0–40 low, 40–60 medium, 60–100 high; a boundary belongs to the higher band', () => {
		expect([0, 39.9, 40, 59.9, 60, 100].map(bandOf)).toEqual([
			'low',
			'low',
			'medium',
			'medium',
			'high',
			'high'
		]);
	});
});

describe('summarizeGroup', () => {
	test('mean, peak, min and the distribution by band', () => {
		const summary = summarizeGroup([
			{ memberId: 'a', score: 20 },
			{ memberId: 'b', score: 45 },
			{ memberId: 'c', score: 70 },
			{ memberId: 'd', score: 85 }
		]);
		expect(summary).toEqual({
			ok: true,
			count: 4,
			mean: 55,
			peak: 85,
			min: 20,
			distribution: { low: 1, medium: 1, high: 2 }
		});
	});

	test('a member listed twice counts once, with the later score', () => {
		const summary = summarizeGroup([
			{ memberId: 'a', score: 10 },
			{ memberId: 'b', score: 50 },
			{ memberId: 'a', score: 90 }
		]);
		expect(summary).toMatchObject({ count: 2, mean: 70, min: 50, peak: 90 });
	});

	test('no scores is an empty group, not a mean of NaN', () => {
		expect(summarizeGroup([])).toEqual({ ok: false, reason: 'empty' });
		expect(summarizeGroup([{ memberId: 'a', score: NaN }])).toEqual({
			ok: false,
			reason: 'empty'
		});
	});
});

describe('meanOf', () => {
	const now = 100_000;

	test("averages each member's latest sample", () => {
		const result = meanOf(
			[
				{ memberId: 'a', value: 1, at: now - 3000 },
				{ memberId: 'a', value: 5, at: now - 1000 },
				{ memberId: 'b', value: 3, at: now - 2000 },
				// Arrived late but older: a's newest is still 5.
				{ memberId: 'a', value: 100, at: now - 2000 }
			],
			{ now }
		);
		expect(result).toEqual({ ok: true, mean: 4, count: 2 });
	});

	test('ignores members whose latest sample is too old', () => {
		const samples = [
			{ memberId: 'a', value: 2, at: now - 500 },
			{ memberId: 'gone', value: 100, at: now - 30_000 }
		];
		expect(meanOf(samples, { now })).toEqual({ ok: true, mean: 2, count: 1 });
		expect(meanOf(samples, { now, maxAgeMs: 60_000 })).toEqual({ ok: true, mean: 51, count: 2 });
		expect(meanOf(samples, { now, maxAgeMs: 100 })).toEqual({
			ok: false,
			reason: 'no_recent_samples'
		});
		expect(meanOf([], { now })).toEqual({ ok: false, reason: 'no_recent_samples' });
	});
});
