import { describe, expect, test } from 'bun:test';
import { RingBuffer } from '../../src/lib/signals/ring-buffer';
import {
	MAX_RR_PER_SAMPLE,
	parseSignalSample,
	SignalBuffer,
	type SignalSample
} from '../../src/lib/signals/samples';

describe('parseSignalSample', () => {
	test('accepts the three kinds', () => {
		for (const sample of [
			{ kind: 'rr', intervalsMs: [812, 790.5, 1990], at: 1_700_000_000_000 },
			{ kind: 'coherence', value: 63.5, at: 0 },
			{ kind: 'rating', value: -3, at: 1_700_000_000_000 }
		]) {
			expect(parseSignalSample(sample)).toEqual({ ok: true, sample: sample as SignalSample });
		}
	});

	test('refuses impossible or unbounded values', () => {
		const at = 1_700_000_000_000;
		const tooMany = Array(MAX_RR_PER_SAMPLE + 1).fill(800);
		for (const input of [
			{ kind: 'rr', intervalsMs: [], at },
			{ kind: 'rr', intervalsMs: tooMany, at },
			{ kind: 'rr', intervalsMs: [800, -5], at },
			{ kind: 'rr', intervalsMs: [800, 0], at },
			{ kind: 'rr', intervalsMs: [800, 60_000], at },
			{ kind: 'rr', intervalsMs: [800, '900'], at },
			{ kind: 'coherence', value: 101, at },
			{ kind: 'coherence', value: -1, at },
			{ kind: 'rating', value: Infinity, at },
			{ kind: 'rating', value: 1e12, at },
			{ kind: 'rating', value: 1, at: -1 },
			{ kind: 'rating', value: 1, at: NaN },
			{ kind: 'rating', value: 1 },
			{ kind: 'rating', value: 1, at, extra: true },
			{ kind: 'hrv', value: 1, at },
			null,
			'rr'
		]) {
			expect(parseSignalSample(input)).toMatchObject({ ok: false, reason: 'invalid' });
		}
	});
});

describe('RingBuffer', () => {
	test('keeps the newest `capacity` items, oldest first', () => {
		const ring = new RingBuffer<number>(3);
		for (let i = 1; i <= 7; i++) ring.push(i);
		expect(ring.size).toBe(3);
		expect(ring.toArray()).toEqual([5, 6, 7]);
		expect(ring.first()).toBe(5);
		expect(ring.last()).toBe(7);
		expect(ring.shift()).toBe(5);
		ring.push(8);
		expect(ring.toArray()).toEqual([6, 7, 8]);
		expect(() => new RingBuffer(0)).toThrow();
	});
});

describe('SignalBuffer', () => {
	const rating = (value: number, at: number): SignalSample => ({ kind: 'rating', value, at });

	test('keeps only the last window of each member', () => {
		let now = 0;
		const buffer = new SignalBuffer({ now: () => now, windowMs: 10_000 });
		for (let at = 0; at <= 30_000; at += 1000) {
			now = at;
			expect(buffer.push('a', rating(at, at))).toEqual({ ok: true });
		}
		const kept = buffer.recent('a').map((s) => s.at);
		expect(kept[0]).toBe(20_000);
		expect(kept.at(-1)).toBe(30_000);
		expect(kept).toHaveLength(11);
		// Time passes without samples: the member drops out entirely.
		now = 50_000;
		expect(buffer.recent('a')).toEqual([]);
		expect(buffer.memberIds()).toEqual([]);
	});

	test('is bounded per member however fast samples arrive', () => {
		const buffer = new SignalBuffer({ now: () => 1000, capacity: 5 });
		for (let i = 0; i < 100; i++) buffer.push('a', rating(i, 1000));
		expect(buffer.recent('a').map((s) => s.kind === 'rating' && s.value)).toEqual([
			95, 96, 97, 98, 99
		]);
	});

	test('refuses stale and out-of-order samples', () => {
		const buffer = new SignalBuffer({ now: () => 100_000, windowMs: 10_000 });
		expect(buffer.push('a', rating(1, 50_000))).toEqual({ ok: false, reason: 'stale' });
		expect(buffer.push('a', rating(1, 99_000))).toEqual({ ok: true });
		expect(buffer.push('a', rating(2, 98_000))).toEqual({ ok: false, reason: 'out_of_order' });
	});

	test('bounds the members, making room by forgetting silent ones', () => {
		let now = 0;
		const buffer = new SignalBuffer({ now: () => now, windowMs: 10_000, maxMembers: 2 });
		buffer.push('a', rating(1, 0));
		buffer.push('b', rating(1, 0));
		expect(buffer.push('c', rating(1, 0))).toEqual({ ok: false, reason: 'too_many_members' });
		now = 20_000;
		buffer.push('a', rating(1, 20_000));
		// b has been silent for longer than the window, so c takes its place.
		expect(buffer.push('c', rating(1, 20_000))).toEqual({ ok: true });
		expect(buffer.memberIds().sort()).toEqual(['a', 'c']);
	});

	test('joins R-R batches in beat order and picks the latest sample of a kind', () => {
		const buffer = new SignalBuffer({ now: () => 10_000 });
		buffer.push('a', { kind: 'rr', intervalsMs: [800, 810], at: 8000 });
		buffer.push('a', rating(4, 8500));
		buffer.push('a', { kind: 'rr', intervalsMs: [820], at: 9000 });
		buffer.push('b', rating(2, 9500));
		expect(buffer.rrIntervalsOf('a')).toEqual([800, 810, 820]);
		expect(buffer.latestOf('rating')).toEqual([
			{ memberId: 'a', sample: rating(4, 8500) },
			{ memberId: 'b', sample: rating(2, 9500) }
		]);
		expect(buffer.latestOf('coherence')).toEqual([]);
		buffer.remove('a');
		expect(buffer.rrIntervalsOf('a')).toEqual([]);
	});
});
