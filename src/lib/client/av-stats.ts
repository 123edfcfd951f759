/**
 * A conversation's `av.quality` telemetry, computed from WebRTC stats. Pure (no LiveKit, no
 * DOM) so it is unit-tested on stats as Chromium reports them.
 */
export type AvConnectionQuality = 'excellent' | 'good' | 'poor' | 'lost' | 'unknown';

/** One track's figures over the last report interval; a figure the stats lack is left out. */
export type AvTrackQuality = {
	kind: 'audio' | 'video';
	direction: 'send' | 'receive';
	/** Mean bitrate since the previous report (absent on a track's first report). */
	bitrateKbps?: number;
	/** Packets lost since the previous report (for `send`: as the receiver reported them). */
	packetsLost?: number;
	jitterMs?: number;
};

/** The `av.quality` telemetry value. */
export type AvQualityReport = {
	stageId: string;
	connectionQuality: AvConnectionQuality;
	tracks: AvTrackQuality[];
};

/** Byte counters of one track at one stats sample, for the bitrate over the next interval. */
export type Counters = { bytes: number; at: number; packetsLost: number };
export type StatsEntry = Record<string, unknown>;

const num = (stat: StatsEntry, key: string): number | undefined => {
	const value = stat[key];
	return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};
const sum = (values: (number | undefined)[]): number | undefined => {
	const known = values.filter((value): value is number => value !== undefined);
	return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0);
};

/**
 * One track's figures from its RTCStatsReport: sent bytes from `outbound-rtp` (summed over
 * simulcast layers) with loss and jitter from `remote-inbound-rtp`, or received bytes, loss and
 * jitter from `inbound-rtp`. `previous` holds the counters of the last call for the same track;
 * the returned counters are the next call's `previous`.
 */
export function summarizeTrackStats(
	stats: Iterable<StatsEntry>,
	kind: 'audio' | 'video',
	direction: 'send' | 'receive',
	previous: Counters | undefined
): { quality: AvTrackQuality; counters: Counters | undefined } {
	const all = [...stats];
	const rtp = all.filter((s) => s.type === (direction === 'send' ? 'outbound-rtp' : 'inbound-rtp'));
	const loss = direction === 'send' ? all.filter((s) => s.type === 'remote-inbound-rtp') : rtp;
	const bytes = sum(rtp.map((s) => num(s, direction === 'send' ? 'bytesSent' : 'bytesReceived')));
	const at = rtp.map((s) => num(s, 'timestamp')).find((t) => t !== undefined);
	const lost = sum(loss.map((s) => num(s, 'packetsLost')));
	const jitters = loss.map((s) => num(s, 'jitter')).filter((j): j is number => j !== undefined);

	const quality: AvTrackQuality = { kind, direction };
	// Counters start over with a new connection: a drop means no interval to measure.
	if (bytes !== undefined && at !== undefined && previous && at > previous.at) {
		if (bytes >= previous.bytes) {
			quality.bitrateKbps = round(((bytes - previous.bytes) * 8) / (at - previous.at));
		}
	}
	if (lost !== undefined) {
		quality.packetsLost =
			previous && lost >= previous.packetsLost ? lost - previous.packetsLost : Math.max(0, lost);
	}
	if (jitters.length > 0) quality.jitterMs = round(Math.max(...jitters) * 1000);
	const counters =
		bytes !== undefined && at !== undefined ? { bytes, at, packetsLost: lost ?? 0 } : previous;
	return { quality, counters };
}

function round(value: number): number {
	return Math.round(value * 10) / 10;
}
