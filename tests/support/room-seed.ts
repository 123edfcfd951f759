import type { Database } from '../../src/lib/server/db/database';
import {
	participants,
	roomMembers,
	rooms,
	studies,
	studyVersions,
	users
} from '../../src/lib/server/db/schema';
import type { StudyDefinition } from '../../src/lib/study';
import { hashSecret } from '../../src/lib/server/auth/tokens';
import { generateParticipantToken } from '../../src/lib/server/participants/token';

let serial = 0;

/** A unique id with a readable prefix (tests share one database per suite). */
export const uniqueId = (prefix: string) =>
	`${prefix}-${++serial}-${Math.random().toString(36).slice(2, 8)}`;

/**
 * Seeds a study room as group formation leaves it: an owner, a live study with version 1 of
 * `definition`, the room and `size` participants placed in it. Returns the room and member ids.
 * `wakeAt`: the room's stored wake-up (formation stores "now"); default none. Each member's study
 * cookie token is returned too (`tokens`, in member order), for sockets under the study link.
 */
export async function seedStudyRoom(
	db: Database,
	definition: StudyDefinition,
	size = 2,
	options: { wakeAt?: Date } = {}
): Promise<{ roomId: string; ids: string[]; studyId: string; slug: string; tokens: string[] }> {
	const userId = uniqueId('u');
	const studyId = uniqueId('s');
	const roomId = uniqueId('room');
	const slug = uniqueId('slug').replace(/-/g, '');
	const at = new Date();
	await db.insert(users).values({
		id: userId,
		email: `${userId}@study-room.test`,
		name: 'Owner',
		passwordHash: 'not-used',
		role: 'researcher'
	});
	await db.insert(studies).values({
		id: studyId,
		slug,
		ownerId: userId,
		title: 'Study room test',
		status: 'live',
		draft: definition,
		latestVersion: 1,
		createdAt: at,
		updatedAt: at
	});
	await db
		.insert(studyVersions)
		.values({ studyId, version: 1, definition, contentHash: 'test', publishedAt: at });
	await db.insert(rooms).values({
		id: roomId,
		kind: 'study',
		studyId,
		studyVersion: 1,
		createdAt: at,
		wakeAt: options.wakeAt ?? null
	});
	const ids = Array.from({ length: size }, () => uniqueId('p'));
	const tokens = ids.map(() => generateParticipantToken());
	if (size === 0) return { roomId, ids, studyId, slug, tokens };
	await db.insert(participants).values(
		ids.map((id) => ({
			id,
			studyId,
			version: 1,
			tokenHash: hashSecret(tokens[ids.indexOf(id)]!),
			status: 'in_room' as const,
			roomId,
			createdAt: at,
			lastSeenAt: at
		}))
	);
	await db.insert(roomMembers).values(
		ids.map((id, i) => ({
			roomId,
			participantId: id,
			role: null,
			condition: null,
			joinedAt: new Date(at.getTime() + i)
		}))
	);
	return { roomId, ids, studyId, slug, tokens };
}
