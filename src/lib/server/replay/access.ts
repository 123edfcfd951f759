/**
 * Reaching one study room as a researcher: the study must be visible to the user (any access
 * level) and the room must belong to it. A missing room, a room of another study and a study
 * the user cannot see are the same `not_found`, so ids of others' rooms are not confirmed.
 */
import { and, eq } from 'drizzle-orm';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { rooms } from '../db/schema';
import { loadStudyRoomSetup, type StudyRoomSetup } from '../rooms/study-rooms';
import { loadStudyForUser, type StudyForUser } from '../studies/access';

/** Room ids are at most 64 characters (the socket path's pattern); longer ones never exist. */
export const MAX_ROOM_ID_LENGTH = 64;

export type StudyRoomRecord = {
	id: string;
	studyId: string;
	version: number;
	headSeq: number;
	createdAt: number;
};

export type StudyRoomAccess =
	| { ok: true; found: StudyForUser; room: StudyRoomRecord; setup: StudyRoomSetup }
	| { ok: false; reason: 'not_found' };

/** The room with its setup (version, definition, founders) when `user` may see it. */
export async function findStudyRoomForUser(
	db: Database,
	user: Pick<SessionUser, 'id' | 'role'>,
	studyId: string,
	roomId: string
): Promise<StudyRoomAccess> {
	if (roomId.length > MAX_ROOM_ID_LENGTH) return { ok: false, reason: 'not_found' };
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	const [room] = await db
		.select()
		.from(rooms)
		.where(and(eq(rooms.id, roomId), eq(rooms.studyId, studyId), eq(rooms.kind, 'study')))
		.limit(1);
	if (!room || room.studyVersion === null) return { ok: false, reason: 'not_found' };
	const setup = await loadStudyRoomSetup(db, roomId);
	if (!setup.ok) return { ok: false, reason: 'not_found' };
	return {
		ok: true,
		found,
		room: {
			id: room.id,
			studyId,
			version: room.studyVersion,
			headSeq: room.headSeq,
			createdAt: room.createdAt.getTime()
		},
		setup: setup.setup
	};
}
