/**
 * A room's recordings, read from its log (pure): LiveKit egress facts are logged as
 * `av.recorded` events (`egress_started` when Ensemble started one, `egress_ended` from the
 * webhook with the final file, `recording_failed` when it could not start). One entry per
 * egress, the latest fact winning; failures to start are entries of their own.
 */
import type { RoomEvent } from '../../protocol';

export type RecordingStatus = 'recording' | 'ended' | 'failed';

export type RoomRecording = {
	/** The egress id, or `failed-<seq>` for a recording that never started. */
	id: string;
	stageId: string | null;
	status: RecordingStatus;
	/** LiveKit's own status word (EGRESS_COMPLETE, EGRESS_FAILED, …), when known. */
	egressStatus: string | null;
	startedAt: number | null;
	endedAt: number | null;
	/** Where the file is (S3 key, URL or path), as the egress reported it; null if unknown. */
	file: string | null;
	error: string | null;
};

type Payload = Record<string, unknown>;
const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
const time = (value: unknown, fallback: number) =>
	typeof value === 'number' && Number.isFinite(value) ? value : fallback;

/** LiveKit statuses that mean the file is not usable. */
const FAILED_STATUSES = new Set(['EGRESS_FAILED', 'EGRESS_ABORTED', 'EGRESS_LIMIT_REACHED']);

/** The recordings the log names, in the order they started. */
export function listRecordings(events: readonly RoomEvent[]): RoomRecording[] {
	const byId = new Map<string, RoomRecording>();
	for (const event of events) {
		if (event.name !== 'av.recorded') continue;
		const p = (event.payload ?? {}) as Payload;
		const at = time(p.at, event.at);
		if (p.kind === 'recording_failed') {
			const id = `failed-${event.seq}`;
			byId.set(id, {
				id,
				stageId: str(p.stageId),
				status: 'failed',
				egressStatus: null,
				startedAt: null,
				endedAt: at,
				file: null,
				error: str(p.message)
			});
			continue;
		}
		if (p.kind !== 'egress_started' && p.kind !== 'egress_ended') continue;
		const egressId = str(p.egressId);
		if (!egressId) continue;
		const known = byId.get(egressId);
		const status = str(p.status);
		const error = str(p.error);
		const ended = p.kind === 'egress_ended';
		byId.set(egressId, {
			id: egressId,
			stageId: str(p.stageId) ?? known?.stageId ?? null,
			status: ended
				? error || (status && FAILED_STATUSES.has(status))
					? 'failed'
					: 'ended'
				: (known?.status ?? 'recording'),
			egressStatus: status ?? known?.egressStatus ?? null,
			startedAt: ended ? (known?.startedAt ?? null) : at,
			endedAt: ended ? at : (known?.endedAt ?? null),
			// The file of the end is the final location; the start only knows the template.
			file: ended ? (str(p.file) ?? known?.file ?? null) : (known?.file ?? str(p.file)),
			error: error ?? known?.error ?? null
		});
	}
	return [...byId.values()];
}
