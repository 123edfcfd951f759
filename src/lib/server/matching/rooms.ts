import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Outcome } from '$lib/study';
import { generateSecureRandomString } from '../auth/tokens';
import type { Executor } from '../db';
import { participants, roomMembers, rooms } from '../db/schema';

/** A member placed in a room, with what formation gave them. */
export type PlacedMember = { participantId: string; role: string | null; condition: string | null };

/** A group formed by matching or a cohort. */
export type FormedGroup = {
	roomId: string;
	version: number;
	condition: string | null;
	members: PlacedMember[];
};

export type GivenOutcome = { participantId: string; outcome: Outcome };

/** What one formation pass did. */
export type FormationResult = {
	groups: FormedGroup[];
	outcomes: GivenOutcome[];
	/** Ghosts taken out of the waiting room (status `left`, no outcome). */
	removed: string[];
};

/**
 * How long a waiter may go unseen (no heartbeat) before counting as gone. The waiting page
 * beats every 5 s; 20 s survives a few lost beats or a brief network change, yet keeps a closed
 * tab from filling a group for long.
 */
export const GHOST_GRACE_MS = 20_000;

/** Same id shape as sandbox rooms (rooms/rooms.ts). */
export function createRoomId(): string {
	return `r-${generateSecureRandomString().slice(0, 16)}`;
}

/** Inserts a study room row (kind `study`); as EventStore.createRoom, plus study and version. */
export async function insertStudyRoom(
	tx: Executor,
	input: { studyId: string; version: number; now: Date }
): Promise<string> {
	const id = createRoomId();
	await tx.insert(rooms).values({
		id,
		kind: 'study',
		studyId: input.studyId,
		studyVersion: input.version,
		createdAt: input.now,
		// Due at once: whichever replica loads the room first stores its real next deadline;
		// if no member's socket ever loads it, the sweeper does (sweeper.ts).
		wakeAt: input.now
	});
	return id;
}

/**
 * Puts participants into a room: `room_members` rows and their status, role and condition.
 * Only participants still in `from` statuses move; if any did not, the transaction is rolled
 * back by the thrown error, because the caller's view of them was wrong.
 * Assumes the caller holds the study's matching lock.
 */
export async function placeMembers(
	tx: Executor,
	roomId: string,
	members: PlacedMember[],
	from: ('waiting' | 'consenting' | 'left')[],
	now: Date
): Promise<void> {
	if (members.length === 0) return;
	const values = members.map(
		(m) => sql`(${m.participantId}::text, ${m.role}::text, ${m.condition}::text)`
	);
	const moved = await tx.execute(sql`
		update ${participants} as p
		set status = 'in_room', room_id = ${roomId}, role = v.role, condition = v.condition,
			last_seen_at = ${now.toISOString()}::timestamptz
		from (values ${sql.join(values, sql`, `)}) as v(id, role, condition)
		where p.id = v.id and p.status in (${sql.join(
			from.map((s) => sql`${s}`),
			sql`, `
		)})
		returning p.id`);
	const count = Array.isArray(moved) ? moved.length : (moved as { rows: unknown[] }).rows.length;
	if (count !== members.length) {
		throw new Error(`placing ${members.length} members in ${roomId} moved ${count}`);
	}
	await tx.insert(roomMembers).values(
		members.map((m) => ({
			roomId,
			participantId: m.participantId,
			role: m.role,
			condition: m.condition,
			joinedAt: now
		}))
	);
}

/** Marks participants as gone from the waiting room (no outcome: they may come back). */
export async function markLeft(tx: Executor, ids: string[]): Promise<void> {
	if (ids.length === 0) return;
	await tx
		.update(participants)
		.set({ status: 'left' })
		.where(and(inArray(participants.id, ids), eq(participants.status, 'waiting')));
}

/** Gives participants their one outcome; someone who already has one keeps it. */
export async function giveOutcome(
	tx: Executor,
	ids: string[],
	outcome: Outcome,
	now: Date
): Promise<GivenOutcome[]> {
	if (ids.length === 0) return [];
	const rows = await tx
		.update(participants)
		.set({ outcome, outcomeAt: now, status: 'finished' })
		.where(and(inArray(participants.id, ids), isNull(participants.outcome)))
		.returning({ id: participants.id });
	return rows.map((row) => ({ participantId: row.id, outcome }));
}

/**
 * Groups per condition for `balanced` assignment. Counted: groups that completed (a member
 * reached the `completed` outcome) and groups still running (someone has no outcome yet).
 * Not counted: groups that ended without completing (dropout, everyone timed out), so their
 * condition is made up by later groups. Counting only completed groups would send every group
 * formed in a burst to the same condition, since none of them has completed yet.
 */
export async function countConditionGroups(
	tx: Executor,
	studyId: string
): Promise<Map<string, number>> {
	const result = await tx.execute(sql`
		select m.condition, count(*)::int as groups
		from (
			select rm.room_id, min(rm.condition) as condition,
				bool_or(p.outcome = 'completed') as completed,
				bool_or(p.outcome is null) as running
			from ${roomMembers} rm
			join ${rooms} r on r.id = rm.room_id
			join ${participants} p on p.id = rm.participant_id
			where r.study_id = ${studyId}
			group by rm.room_id
		) m
		where m.condition is not null and (m.completed or m.running)
		group by m.condition`);
	const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
		condition: string;
		groups: number;
	}[];
	return new Map(rows.map((row) => [row.condition, Number(row.groups)]));
}
