import { describe, expect, test } from 'bun:test';
import type { TelemetrySample } from '../../src/lib/protocol';
import {
	DEFAULT_TELEMETRY_LIMITS,
	honestBytesPerSecond,
	measureSamples,
	stageTelemetryAllowance,
	TelemetryQuota
} from '../../src/lib/server/realtime/telemetry-quota';
import { createStage, type Stage } from '../../src/lib/study';

const ROOM = stageTelemetryAllowance(null, 'room');

function ratingSample(i: number): TelemetrySample {
	return {
		id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
		kind: 'video.rating',
		t: 1_732_251_234_567.25 + i * 16.7,
		value: { stageId: 'clip', mediaTime: i / 60, serverTime: 1_732_251_234_567.891, value: 3.75 }
	};
}

function syncSample(i: number): TelemetrySample {
	return {
		id: `sq-${i}`,
		kind: 'sync.quality',
		t: 1_732_251_234_567.25 + i * 1000,
		value: {
			stageId: 'clip',
			errorMs: 12.5,
			rate: 1.01,
			offsetMs: -3.2,
			rttMs: 38,
			uncertaintyMs: 4.1,
			phase: 'correcting',
			seeks: 0,
			playLatencyMs: 45.5,
			frameMs: 16.7
		}
	};
}

function videoStage(sampleRateHz: number, durationSeconds: number | null): Stage {
	const stage = createStage('video', []);
	if (stage.type !== 'video') throw new Error('not a video stage');
	stage.durationSeconds = durationSeconds;
	stage.content.continuousRating = {
		label: 'How tense?',
		min: 0,
		max: 10,
		minLabel: '',
		maxLabel: '',
		sampleRateHz
	};
	return stage;
}

describe('telemetry quota', () => {
	test('the real samples are about the size the limits assume', () => {
		// A rating sample and a sync report as the pages send them (docs/PROTOCOL.md §8c).
		expect(measureSamples([ratingSample(1)])).toBeLessThan(200);
		expect(measureSamples([syncSample(1)])).toBeLessThan(330);
	});

	test('an honest 60 Hz rating stream with sync reports is never refused, for an hour', () => {
		const quota = new TelemetryQuota();
		const stage = stageTelemetryAllowance(videoStage(60, null), 'stage-1');
		let refused = 0;
		let i = 0;
		// One batch every 100 ms (6 ratings), and a sync report each second: an hour of it.
		for (let ms = 0; ms < 3_600_000; ms += 100) {
			const samples = Array.from({ length: 6 }, () => ratingSample(i++));
			if (ms % 1000 === 0) samples.push(syncSample(ms / 1000));
			const decision = quota.take('r\u0000p', samples.length, measureSamples(samples), ms, stage);
			if (!decision.ok) refused++;
		}
		expect(refused).toBe(0);
	});

	test('a 30 s outage backlog of that stream goes through at once', () => {
		const quota = new TelemetryQuota();
		const backlog = Array.from({ length: 30 * 61 }, (_, i) => ratingSample(i));
		// The client sends it in frames of at most 500 samples, one after another.
		for (let start = 0; start < backlog.length; start += 500) {
			const batch = backlog.slice(start, start + 500);
			expect(quota.take('r\u0000p', batch.length, measureSamples(batch), 0, ROOM)).toEqual({
				ok: true
			});
		}
	});

	test('a flood is refused whole with retryAfterMs, and what passes stays within the rate', () => {
		const quota = new TelemetryQuota();
		const batch = Array.from({ length: 500 }, (_, i) => ratingSample(i));
		const bytes = measureSamples(batch);
		let accepted = 0;
		let refusals = 0;
		// 20 s of a socket sending a full frame every 2 ms (what one socket managed in the issue).
		for (let ms = 0; ms < 20_000; ms += 2) {
			const decision = quota.take('r\u0000abuser', batch.length, bytes, ms, ROOM);
			if (decision.ok) accepted += batch.length;
			else {
				refusals++;
				expect(decision.retryAfterMs).toBeGreaterThan(0);
			}
		}
		const { burstSamples, samplesPerSecond } = DEFAULT_TELEMETRY_LIMITS;
		expect(accepted).toBeLessThanOrEqual(burstSamples + samplesPerSecond * 20);
		expect(refusals).toBeGreaterThan(9_000);
		// Others are not affected: a fresh identity still has its whole burst.
		expect(quota.take('r\u0000other', 500, bytes, 20_000, ROOM).ok).toBe(true);
	});

	test('retryAfterMs is when the batch would fit', () => {
		const quota = new TelemetryQuota({
			limits: { burstSamples: 10, samplesPerSecond: 10, burstBytes: 1e9, bytesPerSecond: 1e9 }
		});
		expect(quota.take('a', 10, 10, 0).ok).toBe(true);
		const refused = quota.take('a', 5, 5, 0);
		expect(refused).toEqual({ ok: false, reason: 'samples', retryAfterMs: 500 });
		expect(quota.take('a', 5, 5, 499).ok).toBe(false);
		expect(quota.take('a', 5, 5, 500).ok).toBe(true);
	});

	test('bytes are limited too: a few huge samples cannot fill the disk', () => {
		const quota = new TelemetryQuota();
		const huge = [{ id: 'h', kind: 'video.rating', t: 0, value: 'x'.repeat(60_000) }];
		const bytes = measureSamples(huge);
		let accepted = 0;
		for (let ms = 0; ms < 10_000; ms += 10) {
			const decision = quota.take('r\u0000p', 1, bytes, ms, ROOM);
			if (decision.ok) accepted += bytes;
			else expect(decision.reason).toBe('bytes');
		}
		const { burstBytes, bytesPerSecond } = DEFAULT_TELEMETRY_LIMITS;
		expect(accepted).toBeLessThanOrEqual(burstBytes + bytesPerSecond * 10);
	});

	test('a stage holds at most its allowance; the next stage starts afresh', () => {
		const quota = new TelemetryQuota({
			limits: { burstSamples: 1e9, samplesPerSecond: 1e9, burstBytes: 1e9, bytesPerSecond: 1e9 }
		});
		const first = { key: 'stage-0', bytes: 1000 };
		expect(quota.take('a', 1, 600, 0, first).ok).toBe(true);
		expect(quota.take('a', 1, 600, 1, first)).toMatchObject({ ok: false, reason: 'stage' });
		// Without a stage (a signal posted to a replica that does not hold the room) the last
		// stage seen still counts: switching paths does not reset it.
		expect(quota.take('a', 1, 600, 2)).toMatchObject({ ok: false, reason: 'stage' });
		expect(quota.take('a', 1, 600, 3, { key: 'stage-1', bytes: 1000 }).ok).toBe(true);
	});

	test('stage allowances follow the stage type, its rating rate and its time limit', () => {
		const questionnaire = createStage('questionnaire', []);
		const conversation = createStage('conversation', []);
		expect(honestBytesPerSecond(videoStage(60, null))).toBeGreaterThan(12_000);
		expect(honestBytesPerSecond(videoStage(1, null))).toBeLessThan(1_000);
		expect(honestBytesPerSecond(conversation)).toBeGreaterThan(honestBytesPerSecond(questionnaire));
		// A two-hour film rated at 60 Hz fits its allowance four times over.
		const film = stageTelemetryAllowance(videoStage(60, 7200), 'film');
		expect(film.bytes).toBeGreaterThanOrEqual(4 * 7200 * 12_000);
		// A short timed stage still takes a backlog; an untimed one is sized for four hours.
		expect(stageTelemetryAllowance(questionnaire, 'q').bytes).toBeGreaterThanOrEqual(8 << 20);
		expect(stageTelemetryAllowance(videoStage(60, null), 'v').bytes).toBeGreaterThan(film.bytes);
	});

	test('memory stays bounded: idle identities are forgotten, and at most maxIdentities kept', () => {
		const quota = new TelemetryQuota({ maxIdentities: 100, idleMs: 60_000 });
		for (let i = 0; i < 1_000; i++) quota.take(`id-${i}`, 1, 10, i);
		expect(quota.size).toBe(100);
		quota.take('late', 1, 10, 200_000);
		expect(quota.size).toBe(1);
	});
});
