import { describe, expect, test } from 'bun:test';
import { summarizeTrackStats, type StatsEntry } from '../../src/lib/client/av-stats';

/** Two simulcast layers sending, as Chromium reports them, and the far end's view of them. */
function sendStats(
	at: number,
	bytes: [number, number],
	lost: number,
	jitter: number
): StatsEntry[] {
	return [
		{ type: 'outbound-rtp', timestamp: at, bytesSent: bytes[0], rid: 'h' },
		{ type: 'outbound-rtp', timestamp: at, bytesSent: bytes[1], rid: 'q' },
		{ type: 'remote-inbound-rtp', timestamp: at, packetsLost: lost, jitter },
		{ type: 'codec', mimeType: 'video/VP8' }
	];
}

describe('summarizeTrackStats', () => {
	test('a first report has no bitrate yet; the next gives the interval bitrate and new losses', () => {
		const first = summarizeTrackStats(
			sendStats(1_000, [10_000, 5_000], 3, 0.004),
			'video',
			'send',
			undefined
		);
		expect(first.quality).toEqual({
			kind: 'video',
			direction: 'send',
			packetsLost: 3,
			jitterMs: 4
		});
		expect(first.counters).toEqual({ bytes: 15_000, at: 1_000, packetsLost: 3 });

		// 62,500 bytes more over 5 s = 100 kbit/s; 2 packets lost since.
		const next = summarizeTrackStats(
			sendStats(6_000, [60_000, 17_500], 5, 0.0125),
			'video',
			'send',
			first.counters
		);
		expect(next.quality).toEqual({
			kind: 'video',
			direction: 'send',
			bitrateKbps: 100,
			packetsLost: 2,
			jitterMs: 12.5
		});
	});

	test('receiving reads inbound-rtp', () => {
		const stats = (at: number, bytes: number, lost: number): StatsEntry[] => [
			{ type: 'inbound-rtp', timestamp: at, bytesReceived: bytes, packetsLost: lost, jitter: 0.02 }
		];
		const first = summarizeTrackStats(stats(0, 0, 0), 'audio', 'receive', undefined);
		const next = summarizeTrackStats(stats(2_000, 8_000, 1), 'audio', 'receive', first.counters);
		expect(next.quality).toEqual({
			kind: 'audio',
			direction: 'receive',
			bitrateKbps: 32,
			packetsLost: 1,
			jitterMs: 20
		});
	});

	test('counters that start over (a new connection) give no bitrate, never a negative one', () => {
		const before = { bytes: 900_000, at: 10_000, packetsLost: 40 };
		const { quality } = summarizeTrackStats(
			sendStats(15_000, [1_000, 500], 2, 0.001),
			'video',
			'send',
			before
		);
		expect(quality.bitrateKbps).toBeUndefined();
		expect(quality.packetsLost).toBe(2);
	});

	test('missing or non-numeric stats leave fields out', () => {
		const stats: StatsEntry[] = [
			{ type: 'outbound-rtp', bytesSent: 'many' },
			{ type: 'transport' }
		];
		const { quality, counters } = summarizeTrackStats(stats, 'audio', 'send', undefined);
		expect(quality).toEqual({ kind: 'audio', direction: 'send' });
		expect(counters).toBeUndefined();
	});
});
