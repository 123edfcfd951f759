import { and, asc, count, eq, gt, isNotNull, sql } from 'drizzle-orm';
import type { RoomEvent } from '../../protocol';
import { watchRoom, type MonitorWaiting, type OutcomeCount, type WatchedRoom } from '../../monitor';
import { createStudyRoomState } from '../../room/study';
import type { Database } from '../db';
import { participants, roomMembers, rooms } from '../db/schema';
import { describeWaitingRoom } from '../matching/waiting';
import { nextCohortStart } from '../matching/schedule';
import { loadVersionSettings } from '../matching/versions';
import type { EventStore } from '../realtime/event-store';
import { loadStudyRoomSetup } from '../rooms/study-rooms';
import { foldRoomEvents } from '../../monitor';

/** Log pages read when folding a room. */
const PAGE = 5_000;

export type StudyRoomRow = { id: string; createdAt: number; running: boolean };

/**
 * A study's rooms, newest first, each marked running (someone in it has no outcome yet, or an
 * open room nobody joined yet) or not. `since`: only rooms created after it (ms), for the
 * periodic look for new groups.
 */
export async function listStudyRooms(
	db: Database,
	studyId: string,
	since?: number
): Promise<StudyRoomRow[]> {
	// Qualified by hand: inside a select list Drizzle writes a column unqualified, and a bare
	// "id" in these subqueries would be the participant's.
	const roomId = sql.raw('"rooms"."id"');
	const anyoneIn = sql<boolean>`exists (
		select 1 from ${roomMembers} rm join ${participants} p on p.id = rm.participant_id
		where rm.room_id = ${roomId} and p.outcome is null)`;
	const nobodyYet = sql<boolean>`not exists (
		select 1 from ${roomMembers} rm where rm.room_id = ${roomId})`;
	const rows = await db
		.select({
			id: rooms.id,
			createdAt: rooms.createdAt,
			anyoneIn,
			nobodyYet,
			closedAt: rooms.closedAt
		})
		.from(rooms)
		.where(
			and(
				eq(rooms.studyId, studyId),
				eq(rooms.kind, 'study'),
				since === undefined ? undefined : gt(rooms.createdAt, new Date(since))
			)
		)
		.orderBy(sql`${rooms.createdAt} desc`);
	return rows.map((row) => ({
		id: row.id,
		createdAt: row.createdAt.getTime(),
		running: Boolean(row.anyoneIn) || (Boolean(row.nobodyYet) && row.closedAt === null)
	}));
}

/**
 * A study room folded from its whole log, as every replica builds it; null when it is not a
 * study room of a known version.
 */
export async function loadWatchedRoom(
	db: Database,
	store: Pick<EventStore, 'readEvents'>,
	roomId: string
): Promise<WatchedRoom | null> {
	const loaded = await loadStudyRoomSetup(db, roomId);
	if (!loaded.ok) return null;
	const { setup } = loaded;
	const room = watchRoom(
		roomId,
		createStudyRoomState({
			definition: setup.definition,
			version: setup.version,
			members: setup.members,
			now: setup.formedAt,
			startStageIndex: setup.startStageIndex
		})
	);
	return readRoomLog(store, room);
}

/** Folds everything in the log after the room's head (a catch-up, or the first load). */
export async function readRoomLog(
	store: Pick<EventStore, 'readEvents'>,
	room: WatchedRoom
): Promise<WatchedRoom> {
	let current = room;
	for (;;) {
		const page: RoomEvent[] = await store.readEvents(
			room.id,
			current.shell.seq,
			Number.MAX_SAFE_INTEGER,
			PAGE
		);
		const folded = foldRoomEvents(current, page);
		// The log has no holes; a "gap" could only be a page starting past our head.
		if (!folded.ok)
			throw new Error(`room ${room.id}: the log does not follow seq ${current.shell.seq}`);
		current = folded.room;
		if (page.length < PAGE) return current;
	}
}

/**
 * Who waits now in the study's waiting room (oldest first), and per version how many wait,
 * the group size, and the expected wait: until a matched group can form (from the recent
 * arrival rate, as the waiting page shows it) or until the next scheduled cohort starts.
 */
export async function readWaitingRoom(
	db: Database,
	studyId: string,
	now: Date
): Promise<MonitorWaiting> {
	const rows = await db
		.select({
			id: participants.id,
			version: participants.version,
			waitingSince: participants.waitingSince,
			lastSeenAt: participants.lastSeenAt,
			isBot: participants.isBot
		})
		.from(participants)
		.where(and(eq(participants.studyId, studyId), eq(participants.status, 'waiting')))
		.orderBy(asc(participants.waitingSince), asc(participants.id));
	const waiters = rows.map((row) => ({
		id: row.id,
		version: row.version,
		waitingSince: (row.waitingSince ?? row.lastSeenAt).getTime(),
		lastSeenAt: row.lastSeenAt.getTime(),
		isBot: row.isBot
	}));
	const versions: MonitorWaiting['versions'] = [];
	for (const version of [...new Set(waiters.map((w) => w.version))].sort((a, b) => a - b)) {
		const settings = await loadVersionSettings(db, studyId, version);
		if (!settings) continue;
		const session = settings.session;
		const waiting = waiters.filter((w) => w.version === version).length;
		if (session.mode === 'matched') {
			const described = await describeWaitingRoom(db, studyId, version, now);
			versions.push({
				version,
				mode: 'matched',
				waiting,
				groupSize: session.groupSize,
				expectedWaitMs: described?.expectedWaitMs ?? null
			});
		} else {
			const expected =
				session.mode === 'scheduled'
					? nextCohortStart(session, now.getTime()) - now.getTime()
					: null;
			versions.push({
				version,
				mode: session.mode,
				waiting,
				groupSize: null,
				expectedWaitMs: expected
			});
		}
	}
	return { waiters, versions };
}

/** Participants with an outcome, per outcome, condition and whether they are bots. */
export async function countOutcomes(db: Database, studyId: string): Promise<OutcomeCount[]> {
	const rows = await db
		.select({
			outcome: participants.outcome,
			condition: participants.condition,
			isBot: participants.isBot,
			n: count()
		})
		.from(participants)
		.where(and(eq(participants.studyId, studyId), isNotNull(participants.outcome)))
		.groupBy(participants.outcome, participants.condition, participants.isBot);
	const merged = new Map<string, OutcomeCount>();
	for (const row of rows) {
		const key = JSON.stringify([row.outcome, row.condition]);
		const entry = merged.get(key) ?? {
			outcome: row.outcome!,
			condition: row.condition,
			participants: 0,
			bots: 0
		};
		entry.participants += Number(row.n);
		if (row.isBot) entry.bots += Number(row.n);
		merged.set(key, entry);
	}
	return [...merged.values()].sort(
		(a, b) =>
			a.outcome.localeCompare(b.outcome) || (a.condition ?? '').localeCompare(b.condition ?? '')
	);
}

/** Whether `roomId` is a study room of `studyId` (interventions only reach the study's own rooms). */
export async function isStudyRoom(db: Database, studyId: string, roomId: string): Promise<boolean> {
	if (roomId.length > 64) return false;
	const [row] = await db
		.select({ id: rooms.id })
		.from(rooms)
		.where(and(eq(rooms.id, roomId), eq(rooms.studyId, studyId), eq(rooms.kind, 'study')))
		.limit(1);
	return row !== undefined;
}
