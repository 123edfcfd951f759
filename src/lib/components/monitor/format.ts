/** Words and figures for the monitor page. Pure. */
import type { MonitorAvQuality, MonitorSyncQuality } from '$lib/monitor';
import { formatDuration } from '$lib/media/format';

/** "completed", "lobby timeout": an outcome or reason id as people read it. */
export function humanize(id: string): string {
	return id.replaceAll('_', ' ');
}

/** How long ago `at` was, at `now` (both ms): "12 s", "3:05". */
export function formatAgo(at: number, now: number): string {
	const seconds = Math.max(0, (now - at) / 1000);
	return seconds < 60 ? `${Math.floor(seconds)} s` : formatDuration(seconds);
}

/** Milliseconds as a short figure: "12 ms", "1.4 s", "3:05" for long ones. */
export function formatMs(ms: number): string {
	const size = Math.abs(ms);
	if (size < 1000) return `${Math.round(ms)} ms`;
	if (size < 60_000) return `${(ms / 1000).toFixed(1)} s`;
	return `${ms < 0 ? '−' : ''}${formatDuration(size / 1000)}`;
}

/** Figures older than this are shown as stale (the member's player or call stopped reporting). */
export const QUALITY_STALE_MS = 15_000;

export function describeSync(sync: MonitorSyncQuality | null, now: number) {
	if (!sync) return { offset: '—', error: '—', stale: false, title: 'No synchronized video yet' };
	return {
		offset: formatMs(sync.offsetMs),
		error: sync.errorP50Ms === null ? '—' : formatMs(sync.errorP50Ms),
		stale: now - sync.at > QUALITY_STALE_MS,
		title: `${sync.phase}; round trip ${formatMs(sync.rttMs)}, ± ${formatMs(sync.uncertaintyMs)}`
	};
}

export function describeAv(av: MonitorAvQuality | null, now: number) {
	if (!av) return { label: '—', stale: false, title: 'No conversation yet' };
	const parts = [
		av.packetsLost === null ? null : `${av.packetsLost} packets lost`,
		av.jitterMs === null ? null : `jitter ${formatMs(av.jitterMs)}`,
		av.sendKbps === null ? null : `sending ${Math.round(av.sendKbps)} kbit/s`,
		av.receiveKbps === null ? null : `receiving ${Math.round(av.receiveKbps)} kbit/s`
	].filter(Boolean);
	return {
		label: av.connection,
		stale: now - av.at > QUALITY_STALE_MS,
		title: parts.length > 0 ? parts.join(', ') : 'No track figures yet'
	};
}
