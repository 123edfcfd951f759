/**
 * A study's rooms as the Rooms tab lists them: running or finished, members (bots apart),
 * outcomes, when they started and how long they ran. Four queries whatever the number of rooms.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { participants, roomEvents, roomMembers, rooms } from '../db/schema';
import { loadStudyForUser } from '../studies/access';

/** Rooms listed at most, newest first; a study with more says so (the API pages by `before`). */
export const MAX_LISTED_ROOMS = 500;

export type StudyRoomSummary = {
	id: string;
	version: number | null;
	status: 'running' | 'finished';
	/** When the group was formed (the earliest member's join), ms since the epoch. */
	startedAt: number;
	finishedAt: number | null;
	/** The room's outcome when it finished (room.finished). */
	roomOutcome: string | null;
	/** Until the room finished, or until its latest event while it runs. */
	durationMs: number;
	members: number;
	bots: number;
	/** Outcome → members with it (members without one are `none`). */
	outcomes: Record<string, number>;
	/** Events in the log. */
	events: number;
};

export type StudyRoomList =
	/** `next`: pass it as `after` for the following page; null on the last page. */
	{ ok: true; rooms: StudyRoomSummary[]; next: string | null } | { ok: false; reason: 'not_found' };

/**
 * The study's rooms for `user` (any access to the study), newest created first. `after` (the
 * `next` of the previous page: the last room listed) continues the list.
 */
export async function listStudyRooms(
	db: Database,
	user: Pick<SessionUser, 'id' | 'role'>,
	studyId: string,
	options: { after?: string; limit?: number } = {}
): Promise<StudyRoomList> {
	if (!(await loadStudyForUser(db, user, studyId))) return { ok: false, reason: 'not_found' };
	const limit = Math.min(options.limit ?? MAX_LISTED_ROOMS, MAX_LISTED_ROOMS);
	const filters = [eq(rooms.studyId, studyId), eq(rooms.kind, 'study')];
	if (options.after !== undefined) {
		// Keyset on (created_at, id), both descending, read from the cursor room itself so the
		// database's own timestamp precision decides ties.
		filters.push(
			sql`(${rooms.createdAt}, ${rooms.id}) < (select r.created_at, r.id from ${rooms} r where r.id = ${options.after})`
		);
	}
	const roomRows = await db
		.select({
			id: rooms.id,
			version: rooms.studyVersion,
			headSeq: rooms.headSeq,
			createdAt: rooms.createdAt,
			lastAt: roomEvents.at
		})
		.from(rooms)
		// The latest event is the one at the head: found by primary key, no scan of the log.
		.leftJoin(roomEvents, and(eq(roomEvents.roomId, rooms.id), eq(roomEvents.seq, rooms.headSeq)))
		.where(and(...filters))
		.orderBy(desc(rooms.createdAt), desc(rooms.id))
		.limit(limit + 1);
	const more = roomRows.length > limit;
	if (more) roomRows.length = limit;
	const ids = roomRows.map((row) => row.id);
	if (ids.length === 0) return { ok: true, rooms: [], next: null };

	const [memberRows, finishedRows] = await Promise.all([
		db
			.select({
				roomId: roomMembers.roomId,
				joinedAt: roomMembers.joinedAt,
				isBot: participants.isBot,
				outcome: participants.outcome
			})
			.from(roomMembers)
			.innerJoin(participants, eq(participants.id, roomMembers.participantId))
			.where(inArray(roomMembers.roomId, ids)),
		db
			.select({ roomId: roomEvents.roomId, at: roomEvents.at, payload: roomEvents.payload })
			.from(roomEvents)
			.where(and(inArray(roomEvents.roomId, ids), eq(roomEvents.name, 'room.finished')))
	]);
	const finished = new Map(finishedRows.map((row) => [row.roomId, row]));
	const membersOf = new Map<string, typeof memberRows>();
	for (const row of memberRows) {
		const list = membersOf.get(row.roomId) ?? [];
		membersOf.set(row.roomId, list);
		list.push(row);
	}
	return {
		ok: true,
		next: more ? roomRows.at(-1)!.id : null,
		rooms: roomRows.map((row): StudyRoomSummary => {
			const members = membersOf.get(row.id) ?? [];
			const startedAt = Math.min(
				row.createdAt.getTime(),
				...members.map((member) => member.joinedAt.getTime())
			);
			const end = finished.get(row.id);
			const payload = (end?.payload ?? {}) as { at?: unknown; outcome?: unknown };
			const finishedAt = end
				? typeof payload.at === 'number'
					? payload.at
					: end.at.getTime()
				: null;
			const outcomes: Record<string, number> = {};
			for (const member of members) {
				const key = member.outcome ?? 'none';
				outcomes[key] = (outcomes[key] ?? 0) + 1;
			}
			const lastAt = row.lastAt?.getTime() ?? startedAt;
			return {
				id: row.id,
				version: row.version,
				status: end ? 'finished' : 'running',
				startedAt,
				finishedAt,
				roomOutcome: typeof payload.outcome === 'string' ? payload.outcome : null,
				durationMs: Math.max(0, (finishedAt ?? lastAt) - startedAt),
				members: members.length,
				bots: members.filter((member) => member.isBot).length,
				outcomes,
				events: row.headSeq
			};
		})
	};
}
