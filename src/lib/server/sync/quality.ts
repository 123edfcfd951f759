/**
 * A room's synchronized-video telemetry as researchers read it (issue 6): the per-participant
 * sync-quality summary (to exclude badly synced viewers) and rating counts (to see ratings
 * landed). The maths is in `$lib/sync/quality`; this reads the rows and checks access.
 */
import { and, eq } from 'drizzle-orm';
import {
	summarizeRatings,
	summarizeSyncQuality,
	SYNC_QUALITY_KIND,
	VIDEO_RATING_KIND,
	type MemberSample,
	type RatingSummary,
	type SyncQualitySummary
} from '../../sync/quality';
import type { SessionUser } from '../auth/sessions';
import type { Executor } from '../db';
import { rooms, telemetrySamples } from '../db/schema';
import { loadStudyForUser } from '../studies/access';

/** Room ids are at most 64 characters (the socket path's pattern); longer ones never exist. */
const MAX_ROOM_ID_LENGTH = 64;

/**
 * A room's telemetry values of one kind with their sender. Every row is read: at ~1 Hz per
 * member a long session is tens of thousands of small rows, which is fine for a report.
 */
async function readMemberSamples(
	db: Executor,
	roomId: string,
	kind: string
): Promise<MemberSample[]> {
	return db
		.select({ memberId: telemetrySamples.actor, value: telemetrySamples.value })
		.from(telemetrySamples)
		.where(and(eq(telemetrySamples.roomId, roomId), eq(telemetrySamples.kind, kind)));
}

/** The room's `sync.quality` samples summarized per member and stage; `invalid` were skipped. */
export async function readRoomSyncQuality(
	db: Executor,
	roomId: string
): Promise<{ members: SyncQualitySummary[]; invalid: number }> {
	return summarizeSyncQuality(await readMemberSamples(db, roomId, SYNC_QUALITY_KIND));
}

/** The room's `video.rating` samples counted per member and stage; `invalid` were skipped. */
export async function readRoomRatings(
	db: Executor,
	roomId: string
): Promise<{ ratings: RatingSummary[]; invalid: number }> {
	return summarizeRatings(await readMemberSamples(db, roomId, VIDEO_RATING_KIND));
}

export type RoomSyncReport = {
	roomId: string;
	members: SyncQualitySummary[];
	ratings: RatingSummary[];
	/** Stored samples that did not match their kind's schema and were left out. */
	invalid: { syncQuality: number; ratings: number };
};

export type RoomSyncReportResult =
	{ ok: true; report: RoomSyncReport } | { ok: false; reason: 'not_found' };

/**
 * The sync report of a room `user` may see: a study room needs access to its study (any
 * level); a sandbox room belongs to no study and is open to every experimenter, as its socket
 * is. A missing room and one the user cannot see are the same `not_found`, so ids of others'
 * rooms are not confirmed. The caller checks the user's role.
 */
export async function readRoomSyncReport(
	db: Executor,
	user: Pick<SessionUser, 'id' | 'role'>,
	roomId: string
): Promise<RoomSyncReportResult> {
	if (roomId.length > MAX_ROOM_ID_LENGTH) return { ok: false, reason: 'not_found' };
	const [room] = await db
		.select({ studyId: rooms.studyId })
		.from(rooms)
		.where(eq(rooms.id, roomId))
		.limit(1);
	if (!room) return { ok: false, reason: 'not_found' };
	if (room.studyId !== null && !(await loadStudyForUser(db, user, room.studyId))) {
		return { ok: false, reason: 'not_found' };
	}
	const [quality, ratings] = await Promise.all([
		readRoomSyncQuality(db, roomId),
		readRoomRatings(db, roomId)
	]);
	return {
		ok: true,
		report: {
			roomId,
			members: quality.members,
			ratings: ratings.ratings,
			invalid: { syncQuality: quality.invalid, ratings: ratings.invalid }
		}
	};
}
