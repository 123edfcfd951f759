import { describe, expect, test } from 'bun:test';
import {
	MAX_SAMPLES_PER_BATCH,
	parseSignalBatch,
	toSignalSample,
	toTelemetrySample
} from '../../src/lib/server/signals/batch';
import { RoomMetrics, type MetricStage } from '../../src/lib/server/signals/room-metrics';
import { synthesizeRrIntervals } from '../../src/lib/signals/synthetic';

const coherenceStage: MetricStage = {
	id: 'gm',
	metric: 'coherence',
	signal: 'rr',
	min: 0,
	max: 100
};
const ratingStage: MetricStage = { id: 'gm', metric: 'mean', signal: 'rating', min: 0, max: 10 };

/** A fake server clock the aggregator and the samples share. */
function createClock(start = 1_000_000) {
	let now = start;
	return { now: () => now, advance: (ms: number) => (now += ms) };
}

/**
 * Feeds `intervals` to `member` the way a device would: batches of 30 beats, each stamped when
 * its last beat ended on the shared clock, which advances with the beats.
 */
function feedRr(
	metrics: RoomMetrics,
	clock: ReturnType<typeof createClock>,
	member: string,
	intervals: number[]
) {
	for (let i = 0; i < intervals.length; i += 30) {
		const batch = intervals.slice(i, i + 30);
		const result = metrics.record(member, `${member}-${i}`, {
			kind: 'rr',
			intervalsMs: batch,
			at: clock.now()
		});
		expect(result).toEqual({ ok: true });
	}
}

describe('RoomMetrics: coherence', () => {
	test('slow, even breathing gives every member and the group a high score', () => {
		const clock = createClock();
		const metrics = new RoomMetrics({ now: clock.now });
		const members = ['p1', 'p2', 'p3'];
		for (const [i, member] of members.entries()) {
			const rr = synthesizeRrIntervals({
				seconds: 80,
				meanMs: 900,
				rhythms: [{ hz: 0.1, amplitudeMs: 60 }],
				noiseMs: 5,
				seed: 11 + i
			});
			feedRr(metrics, clock, member, rr);
		}
		const data = metrics.compute(coherenceStage, members);
		expect(data.members.map((m) => m.id)).toEqual(members);
		for (const member of data.members) expect(member.value).toBeGreaterThan(60);
		expect(data.group?.count).toBe(3);
		expect(data.group!.mean).toBeGreaterThan(60);
		expect(data.group?.distribution).toEqual({ low: 0, medium: 0, high: 3 });
	});

	test('an irregular rhythm scores low, and the group mean sits between', () => {
		const clock = createClock();
		const metrics = new RoomMetrics({ now: clock.now });
		const even = synthesizeRrIntervals({
			seconds: 80,
			meanMs: 900,
			rhythms: [{ hz: 0.1, amplitudeMs: 60 }],
			noiseMs: 5,
			seed: 3
		});
		const chaotic = synthesizeRrIntervals({
			seconds: 80,
			meanMs: 850,
			rhythms: [
				{ hz: 0.05, amplitudeMs: 25 },
				{ hz: 0.13, amplitudeMs: 25 },
				{ hz: 0.21, amplitudeMs: 25 },
				{ hz: 0.33, amplitudeMs: 25 }
			],
			noiseMs: 20,
			seed: 4
		});
		feedRr(metrics, clock, 'calm', even);
		feedRr(metrics, clock, 'restless', chaotic);
		const data = metrics.compute(coherenceStage, ['calm', 'restless']);
		const byId = Object.fromEntries(data.members.map((m) => [m.id, m.value]));
		expect(byId.calm).toBeGreaterThan(60);
		expect(byId.restless).toBeLessThan(byId.calm! - 20);
		expect(data.group!.peak).toBe(byId.calm!);
		expect(data.group!.mean).toBeCloseTo((byId.calm! + byId.restless!) / 2, 6);
	});

	test('silent members, members without a full window and non-members are left out', () => {
		const clock = createClock();
		const metrics = new RoomMetrics({ now: clock.now });
		const rr = synthesizeRrIntervals({
			seconds: 80,
			meanMs: 900,
			rhythms: [{ hz: 0.1, amplitudeMs: 60 }],
			noiseMs: 5,
			seed: 21
		});
		feedRr(metrics, clock, 'silent', rr);
		clock.advance(15_000); // longer than the 10 s a member may stay silent
		feedRr(metrics, clock, 'active', rr);
		feedRr(metrics, clock, 'outsider', rr);
		feedRr(metrics, clock, 'newcomer', rr.slice(0, 20)); // ~18 s of beats: no window yet
		const data = metrics.compute(coherenceStage, ['silent', 'active', 'newcomer']);
		expect(data.members.map((m) => m.id)).toEqual(['active']);
		expect(data.group?.count).toBe(1);
	});

	test('a reported coherence value is taken as it is', () => {
		const clock = createClock();
		const metrics = new RoomMetrics({ now: clock.now });
		metrics.record('p1', 's1', { kind: 'coherence', value: 72, at: clock.now() });
		metrics.record('p2', 's1', { kind: 'coherence', value: 30, at: clock.now() });
		const data = metrics.compute(coherenceStage, ['p1', 'p2']);
		expect(data.members).toEqual([
			{ id: 'p1', value: 72 },
			{ id: 'p2', value: 30 }
		]);
		expect(data.group).toEqual({
			count: 2,
			mean: 51,
			peak: 72,
			min: 30,
			distribution: { low: 1, medium: 0, high: 1 }
		});
	});

	test('no samples at all: no group value', () => {
		const metrics = new RoomMetrics({ now: createClock().now });
		expect(metrics.compute(coherenceStage, ['p1']).group).toBeNull();
	});
});

describe('RoomMetrics: mean of a signal', () => {
	test('each member counts once, with their latest rating, until they fall silent', () => {
		const clock = createClock();
		const metrics = new RoomMetrics({ now: clock.now });
		metrics.record('p1', 'a', { kind: 'rating', value: 2, at: clock.now() });
		metrics.record('p1', 'b', { kind: 'rating', value: 8, at: clock.now() });
		metrics.record('p2', 'a', { kind: 'rating', value: 4, at: clock.now() });
		let data = metrics.compute(ratingStage, ['p1', 'p2']);
		expect(data.group).toEqual({ count: 2, mean: 6, peak: 8, min: 4 });
		expect(data).toMatchObject({
			stageId: 'gm',
			metric: 'mean',
			signal: 'rating',
			min: 0,
			max: 10
		});

		clock.advance(8_000);
		metrics.record('p2', 'b', { kind: 'rating', value: 5, at: clock.now() });
		clock.advance(4_000); // p1 has now been silent for 12 s
		data = metrics.compute(ratingStage, ['p1', 'p2']);
		expect(data.members).toEqual([{ id: 'p2', value: 5 }]);
		expect(data.group).toEqual({ count: 1, mean: 5, peak: 5, min: 5 });
	});

	test('a resent sample id is counted once', () => {
		const clock = createClock();
		const metrics = new RoomMetrics({ now: clock.now });
		const sample = { kind: 'rr' as const, intervalsMs: [800, 820], at: clock.now() };
		expect(metrics.record('p1', 'x', sample)).toEqual({ ok: true });
		expect(metrics.record('p1', 'x', sample)).toEqual({ ok: false, reason: 'duplicate' });
		// Another member may use the same id: ids are per member.
		expect(metrics.record('p2', 'x', sample)).toEqual({ ok: true });
	});

	test('members are capped', () => {
		const clock = createClock();
		const metrics = new RoomMetrics({ now: clock.now, maxMembers: 2 });
		const sample = { kind: 'rating' as const, value: 1, at: clock.now() };
		expect(metrics.record('p1', 'a', sample).ok).toBe(true);
		expect(metrics.record('p2', 'a', sample).ok).toBe(true);
		expect(metrics.record('p3', 'a', sample)).toEqual({ ok: false, reason: 'too_many_members' });
	});
});

describe('signal batches', () => {
	const valid = {
		samples: [
			{ id: 'rr-1', kind: 'rr', intervalsMs: [812, 798.5], at: 1_732_251_234_567 },
			{ id: 'c-1', kind: 'coherence', value: 64, at: 1_732_251_234_600 },
			{ id: 'r-1', kind: 'rating', value: 0.4, at: 1_732_251_234_700 }
		]
	};

	test('a valid batch becomes telemetry of kind signal.<kind>', () => {
		const parsed = parseSignalBatch(JSON.stringify(valid));
		if (!parsed.ok) throw new Error(parsed.message);
		expect(parsed.samples.map(toTelemetrySample)).toEqual([
			{ id: 'rr-1', kind: 'signal.rr', t: 1_732_251_234_567, value: [812, 798.5] },
			{ id: 'c-1', kind: 'signal.coherence', t: 1_732_251_234_600, value: 64 },
			{ id: 'r-1', kind: 'signal.rating', t: 1_732_251_234_700, value: 0.4 }
		]);
	});

	test.each([
		['not JSON', '{'],
		['no samples', JSON.stringify({ samples: [] })],
		['an extra field', JSON.stringify({ ...valid, room: 'r1' })],
		['a sample without id', JSON.stringify({ samples: [{ kind: 'coherence', value: 3, at: 1 }] })],
		['a bad id', JSON.stringify({ samples: [{ id: 'a b', kind: 'coherence', value: 3, at: 1 }] })],
		[
			'a coherence over 100',
			JSON.stringify({ samples: [{ id: 'a', kind: 'coherence', value: 300, at: 1 }] })
		],
		['an unknown kind', JSON.stringify({ samples: [{ id: 'a', kind: 'eeg', value: 3, at: 1 }] })],
		[
			'an empty R-R list',
			JSON.stringify({ samples: [{ id: 'a', kind: 'rr', intervalsMs: [], at: 1 }] })
		],
		[
			'too many samples',
			JSON.stringify({
				samples: Array.from({ length: MAX_SAMPLES_PER_BATCH + 1 }, (_, i) => ({
					id: `s${i}`,
					kind: 'rating',
					value: 1,
					at: 1
				}))
			})
		],
		[
			'too many bytes',
			JSON.stringify({
				samples: [{ id: 'a', kind: 'rating', value: 1, at: 1 }],
				pad: 'x'.repeat(70_000)
			})
		]
	])('refuses %s', (_, body) => {
		expect(parseSignalBatch(body)).toMatchObject({ ok: false, reason: 'invalid' });
	});

	test('socket telemetry of the signal kinds is read; other kinds and bad values are not', () => {
		const at = 5_000;
		expect(toSignalSample({ id: 'a', kind: 'signal.rr', t: 1, value: [800, 810] }, at)).toEqual({
			kind: 'rr',
			intervalsMs: [800, 810],
			at
		});
		expect(toSignalSample({ id: 'a', kind: 'rating', t: 1, value: 3 }, at)).toEqual({
			kind: 'rating',
			value: 3,
			at
		});
		expect(toSignalSample({ id: 'a', kind: 'signal.coherence', t: 1, value: 101 }, at)).toBe(
			undefined
		);
		expect(toSignalSample({ id: 'a', kind: 'sync.drift', t: 1, value: 3 }, at)).toBe(undefined);
	});
});
