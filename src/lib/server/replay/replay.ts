/**
 * Session replay (issue 8): a study room's whole log with what it is folded from (the room as
 * formed), member labels and the names of experimenters who acted in it. Reading it is an
 * access to research data, so every load is written to the audit log first.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import type { RoomEvent } from '../../protocol';
import { buildTimeline, labelMembers, type TimelineEntry } from '../../room/study/timeline';
import { createStudyRoomState, type StudyRoomState } from '../../room/study';
import type { StudyDefinition } from '../../study';
import { recordAudit } from '../audit/record';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { roomEvents, users } from '../db/schema';
import type { StudyRoomSetup } from '../rooms/study-rooms';
import { findStudyRoomForUser, type StudyRoomRecord } from './access';

/**
 * Events read per replay. A two-hour chat-heavy room logs a few thousand; beyond this the page
 * (which folds states in the browser) would get slow, so the rest is left out and said so.
 */
export const MAX_REPLAY_EVENTS = 20_000;

export type RoomReplay = {
	room: StudyRoomRecord;
	definition: StudyDefinition;
	/** The room as formed (before event 1): what the scrubber folds from. */
	initial: StudyRoomState;
	/** When the room started (formed), ms since the epoch. */
	startedAt: number;
	events: RoomEvent[];
	/** More events exist than were read (MAX_REPLAY_EVENTS). */
	truncated: boolean;
	/** Member id → `M1`, `M2`, … in the order they entered. */
	labels: Record<string, string>;
	/** Experimenter user id → name, for events they caused. */
	users: Record<string, string>;
};

export type RoomReplayResult =
	{ ok: true; replay: RoomReplay } | { ok: false; reason: 'not_found' };

/** The room as its LiveRoom builds it (every replica builds the same initial state). */
export function createInitialState(setup: StudyRoomSetup): StudyRoomState {
	return createStudyRoomState({
		definition: setup.definition,
		version: setup.version,
		members: setup.members,
		now: setup.formedAt,
		startStageIndex: setup.startStageIndex
	});
}

/** Up to `limit` events of the room in log order. Read only: the realtime core owns writing. */
export async function readRoomLog(
	db: Database,
	roomId: string,
	limit: number
): Promise<RoomEvent[]> {
	const rows = await db
		.select()
		.from(roomEvents)
		.where(eq(roomEvents.roomId, roomId))
		.orderBy(asc(roomEvents.seq))
		.limit(limit);
	return rows.map((row) => {
		const event: RoomEvent = {
			seq: row.seq,
			at: row.at.getTime(),
			actor: row.actor,
			name: row.name,
			payload: row.payload
		};
		if (row.clientId) event.cid = row.clientId;
		return event;
	});
}

/** Names of the accounts among `actors` (members and `system` are not accounts). */
async function findUserNames(
	db: Database,
	actors: Iterable<string>
): Promise<Record<string, string>> {
	const ids = [...new Set(actors)];
	if (ids.length === 0) return {};
	const rows = await db
		.select({ id: users.id, name: users.name })
		.from(users)
		.where(inArray(users.id, ids));
	return Object.fromEntries(rows.map((row) => [row.id, row.name]));
}

/** Which audit action a read is logged as, and what it says about what was read. */
export type ReplayAuditNote = { via: 'page' | 'api' };

/**
 * Loads a room's replay for `user` and records the access (`room.replay`, with the room and
 * how many events were read). `not_found` for rooms the user cannot see.
 */
export async function loadRoomReplay(
	db: Database,
	user: SessionUser,
	studyId: string,
	roomId: string,
	note: ReplayAuditNote
): Promise<RoomReplayResult> {
	const access = await findStudyRoomForUser(db, user, studyId, roomId);
	if (!access.ok) return access;
	const { room, setup } = access;
	const events = await readRoomLog(db, roomId, MAX_REPLAY_EVENTS + 1);
	const truncated = events.length > MAX_REPLAY_EVENTS;
	if (truncated) events.length = MAX_REPLAY_EVENTS;
	await recordAudit(db, {
		user,
		studyId,
		action: 'room.replay',
		detail: { roomId, events: events.length, via: note.via }
	});
	const initial = createInitialState(setup);
	const labels = labelMembers(initial, events);
	const experimenters = events
		.map((event) => event.actor)
		.filter((actor) => actor !== 'system' && !(actor in labels));
	return {
		ok: true,
		replay: {
			room,
			definition: setup.definition,
			initial,
			startedAt: setup.formedAt,
			events,
			truncated,
			labels,
			users: await findUserNames(db, experimenters)
		}
	};
}

/** The replay's timeline (what the API returns for scripts). */
export function toTimeline(replay: RoomReplay): TimelineEntry[] {
	return buildTimeline(replay.events, replay.definition, {
		startedAt: replay.startedAt,
		names: { members: replay.labels, users: replay.users }
	});
}
