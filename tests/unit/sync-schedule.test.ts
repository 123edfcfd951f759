import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import {
	changeRateAt,
	parsePlaybackSchedule,
	pauseAt,
	playAt,
	seekTo,
	targetMediaTime,
	targetRateAt,
	type PlaybackSchedule
} from '../../src/lib/sync/schedule';

const T0 = 1_700_000_000_000;

const playing: PlaybackSchedule = {
	mediaId: 'clip-1',
	playing: true,
	anchorMediaTime: 10,
	anchorServerTime: T0,
	rate: 1
};
const paused: PlaybackSchedule = { ...playing, playing: false };

describe('targetMediaTime', () => {
	test('playing: the anchor plus the elapsed server time at the rate', () => {
		expect(targetMediaTime(playing, T0)).toBe(10);
		expect(targetMediaTime(playing, T0 + 2_500)).toBe(12.5);
		expect(targetMediaTime({ ...playing, rate: 1.5 }, T0 + 2_000)).toBe(13);
	});

	test('paused: frozen at the anchor whatever the time', () => {
		expect(targetMediaTime(paused, T0 - 5_000)).toBe(10);
		expect(targetMediaTime(paused, T0 + 60_000)).toBe(10);
	});

	test('an anchor in the future is a start time: frozen until then', () => {
		expect(targetMediaTime(playing, T0 - 3_000)).toBe(10);
		expect(targetRateAt(playing, T0 - 3_000)).toBe(0);
		expect(targetRateAt(playing, T0)).toBe(1);
	});

	test('clamped to [0, duration]', () => {
		expect(targetMediaTime({ ...paused, anchorMediaTime: 0 }, T0)).toBe(0);
		expect(targetMediaTime(playing, T0 + 100_000, 30)).toBe(30);
		expect(targetRateAt(playing, T0 + 100_000, 30)).toBe(0);
		expect(targetRateAt(playing, T0 + 1_000, 30)).toBe(1);
	});
});

describe('re-anchoring', () => {
	test('pause freezes where the target is at that moment', () => {
		const frozen = pauseAt(playing, T0 + 4_000);
		expect(frozen).toMatchObject({
			playing: false,
			anchorMediaTime: 14,
			anchorServerTime: T0 + 4_000
		});
		expect(targetMediaTime(frozen, T0 + 9_000)).toBe(14);
	});

	test('play-at-T resumes from the frozen position, starting at T', () => {
		const resumed = playAt(pauseAt(playing, T0 + 4_000), T0 + 10_000);
		expect(targetMediaTime(resumed, T0 + 9_000)).toBe(14);
		expect(targetMediaTime(resumed, T0 + 10_000)).toBe(14);
		expect(targetMediaTime(resumed, T0 + 11_000)).toBe(15);
	});

	test('seek jumps and keeps playing (or paused)', () => {
		const jumped = seekTo(playing, 120, T0 + 5_000);
		expect(targetMediaTime(jumped, T0 + 5_000)).toBe(120);
		expect(targetMediaTime(jumped, T0 + 6_000)).toBe(121);
		expect(targetMediaTime(seekTo(paused, 120, T0 + 5_000), T0 + 6_000)).toBe(120);
		expect(seekTo(playing, -3, T0).anchorMediaTime).toBe(0);
	});

	test('a rate change does not jump', () => {
		const faster = changeRateAt(playing, 2, T0 + 4_000);
		expect(targetMediaTime(faster, T0 + 4_000)).toBe(14);
		expect(targetMediaTime(faster, T0 + 5_000)).toBe(16);
	});

	test('pause then play later never jumps the target (property)', () => {
		fc.assert(
			fc.property(
				fc.double({ min: 0, max: 3_600, noNaN: true }),
				fc.double({ min: 0.5, max: 2, noNaN: true }),
				fc.integer({ min: 0, max: 600_000 }),
				fc.integer({ min: 0, max: 600_000 }),
				(anchor, rate, pauseAfter, pausedFor) => {
					const schedule = { ...playing, anchorMediaTime: anchor, rate };
					const pausedAt = T0 + pauseAfter;
					const before = targetMediaTime(schedule, pausedAt);
					const resumed = playAt(pauseAt(schedule, pausedAt), pausedAt + pausedFor);
					expect(targetMediaTime(resumed, pausedAt + pausedFor)).toBeCloseTo(before, 9);
				}
			)
		);
	});
});

describe('parsePlaybackSchedule', () => {
	test('accepts a well-formed schedule', () => {
		expect(parsePlaybackSchedule(playing)).toEqual({ ok: true, schedule: playing });
	});

	test.each([
		['NaN media time', { ...playing, anchorMediaTime: Number.NaN }],
		['infinite server time', { ...playing, anchorServerTime: Number.POSITIVE_INFINITY }],
		['negative media time', { ...playing, anchorMediaTime: -1 }],
		['absurd media time', { ...playing, anchorMediaTime: 1e9 }],
		['negative server time', { ...playing, anchorServerTime: -5 }],
		['zero rate', { ...playing, rate: 0 }],
		['negative rate', { ...playing, rate: -1 }],
		['absurd rate', { ...playing, rate: 100 }],
		['NaN rate', { ...playing, rate: Number.NaN }],
		['empty media id', { ...playing, mediaId: '' }],
		['extra key', { ...playing, host: 'alice' }],
		['missing playing', { ...playing, playing: undefined }],
		['not an object', 'play']
	])('refuses %s', (_label, input) => {
		const result = parsePlaybackSchedule(input);
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.reason).toBe('invalid');
	});
});
