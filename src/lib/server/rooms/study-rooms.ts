import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { RoomEvent } from '../../protocol';
import type { NewStudyMember } from '../../room/study';
import type { Outcome, StudyDefinition } from '../../study';
import { findRoomStartIndex } from '../../study/journey';
import type { Database } from '../db';
import { participants, roomMembers, rooms, stageResponses, studyVersions } from '../db/schema';
import { describeDatabaseError } from '../db/errors';
import { log } from '../log';

/** What a study room is created from: its version's definition and the members formed into it. */
export type StudyRoomSetup = {
	studyId: string;
	version: number;
	definition: StudyDefinition;
	members: NewStudyMember[];
	/** When the group was formed (the earliest member's join): the room's first stage starts then. */
	formedAt: number;
	startStageIndex: number;
};

export type StudyRoomSetupResult =
	| { ok: true; setup: StudyRoomSetup }
	| { ok: false; reason: 'not_a_study_room' | 'version_missing' };

/** The database side of a study room: its setup, and the rows derived from its log. */
export interface StudyRoomServices {
	loadSetup(roomId: string): Promise<StudyRoomSetupResult>;
	/** Writes the rows derived from committed events; idempotent, so any event may be passed twice. */
	recordEffects(roomId: string, setup: StudyRoomSetup, events: RoomEvent[]): Promise<void>;
	/** Whether `participantId` is a member of `roomId` (room_members). */
	isMember(roomId: string, participantId: string): Promise<boolean>;
	/** A member's room_members row (role, condition, bot flag), or null when not a member. */
	findMember(roomId: string, participantId: string): Promise<NewStudyMember | null>;
}

/** Loads what a study room is built from: its version's definition and room_members rows. */
export async function loadStudyRoomSetup(
	db: Database,
	roomId: string
): Promise<StudyRoomSetupResult> {
	const [room] = await db.select().from(rooms).where(eq(rooms.id, roomId)).limit(1);
	if (!room || room.kind !== 'study' || !room.studyId || room.studyVersion === null) {
		return { ok: false, reason: 'not_a_study_room' };
	}
	const [version] = await db
		.select({ definition: studyVersions.definition })
		.from(studyVersions)
		.where(
			and(eq(studyVersions.studyId, room.studyId), eq(studyVersions.version, room.studyVersion))
		)
		.limit(1);
	if (!version) return { ok: false, reason: 'version_missing' };
	const rows = await db
		.select({
			id: roomMembers.participantId,
			role: roomMembers.role,
			condition: roomMembers.condition,
			joinedAt: roomMembers.joinedAt,
			isBot: participants.isBot
		})
		.from(roomMembers)
		.innerJoin(participants, eq(participants.id, roomMembers.participantId))
		.where(eq(roomMembers.roomId, roomId))
		// Join order is the order views list members; the id breaks ties so every replica agrees.
		.orderBy(asc(roomMembers.joinedAt), asc(roomMembers.participantId));
	const definition = version.definition as StudyDefinition;
	// Every replica must build the same initial state whenever it loads the room. An open room
	// starts with whoever created it (joined in the same transaction); later joiners enter
	// through `member.join` events in the log when their socket first connects.
	const founders =
		definition.settings.session.mode === 'open'
			? rows.filter((row) => row.joinedAt.getTime() <= room.createdAt.getTime())
			: rows;
	return {
		ok: true,
		setup: {
			studyId: room.studyId,
			version: room.studyVersion,
			definition,
			members: founders.map(({ id, role, condition, isBot }) => ({ id, role, condition, isBot })),
			// Every replica must build the same initial state, so the time comes from the rows.
			formedAt: founders[0]?.joinedAt.getTime() ?? room.createdAt.getTime(),
			startStageIndex: findRoomStartIndex(definition)
		}
	};
}

type Submitted = { stageId: string; memberId: string; response: unknown; at: number };
type Picked = { stageId: string; memberId: string; option: string; at: number };
type MemberOutcome = { memberId: string; outcome: Outcome; at: number };
type Incomplete = { stageId: string; memberId: string; reason: string; at: number };

/**
 * Derives rows from committed events. Idempotent: a submission is inserted once (the primary
 * key is participant + stage), a group-choice pick keeps the latest by time whatever the order
 * rows arrive in, a data stage left unanswered gets an `incomplete` row, and an outcome is only
 * written where none is set yet.
 */
export async function recordStudyEffects(
	db: Database,
	roomId: string,
	setup: StudyRoomSetup,
	events: RoomEvent[]
): Promise<void> {
	const stageIndex = (stageId: string) =>
		setup.definition.stages.findIndex((s) => s.id === stageId);
	const row = (e: { stageId: string; memberId: string; at: number }, response: unknown) => ({
		participantId: e.memberId,
		roomId,
		studyId: setup.studyId,
		version: setup.version,
		stageId: e.stageId,
		stageIndex: stageIndex(e.stageId),
		response: response ?? null,
		submittedAt: new Date(e.at)
	});
	const submitted = events.filter((e) => e.name === 'stage.submitted');
	if (submitted.length > 0) {
		await db
			.insert(stageResponses)
			.values(
				submitted.map((e) => {
					const p = e.payload as Submitted;
					return { ...row(p, p.response), clientId: e.cid ?? null };
				})
			)
			.onConflictDoNothing();
	}
	for (const event of events.filter((e) => e.name === 'group_choice.picked')) {
		const p = event.payload as Picked;
		await db
			.insert(stageResponses)
			.values({ ...row(p, { option: p.option }), clientId: event.cid ?? null })
			.onConflictDoUpdate({
				target: [stageResponses.participantId, stageResponses.stageId],
				set: {
					response: sql`excluded.response`,
					submittedAt: sql`excluded.submitted_at`,
					clientId: sql`excluded.client_id`
				},
				setWhere: sql`${stageResponses.submittedAt} <= excluded.submitted_at`
			});
	}
	const incomplete = events.filter((e) => e.name === 'stage.incomplete');
	if (incomplete.length > 0) {
		await db
			.insert(stageResponses)
			.values(
				incomplete.map((e) => {
					const p = e.payload as Incomplete;
					return { ...row(p, null), status: 'incomplete' as const, incompleteReason: p.reason };
				})
			)
			.onConflictDoNothing();
	}
	for (const event of events.filter((e) => e.name === 'member.outcome')) {
		const p = event.payload as MemberOutcome;
		await db
			.update(participants)
			.set({ outcome: p.outcome, outcomeAt: new Date(p.at), status: 'finished' })
			.where(and(eq(participants.id, p.memberId), isNull(participants.outcome)));
	}
}

/** Whether a participant belongs to a room. */
export async function isRoomMember(
	db: Database,
	roomId: string,
	participantId: string
): Promise<boolean> {
	const [row] = await db
		.select({ id: roomMembers.participantId })
		.from(roomMembers)
		.where(and(eq(roomMembers.roomId, roomId), eq(roomMembers.participantId, participantId)))
		.limit(1);
	return row !== undefined;
}

/** A member's row for `member.join`: role, condition and whether they are a bot. */
async function findRoomMember(
	db: Database,
	roomId: string,
	participantId: string
): Promise<NewStudyMember | null> {
	const [row] = await db
		.select({
			id: roomMembers.participantId,
			role: roomMembers.role,
			condition: roomMembers.condition,
			isBot: participants.isBot
		})
		.from(roomMembers)
		.innerJoin(participants, eq(participants.id, roomMembers.participantId))
		.where(and(eq(roomMembers.roomId, roomId), eq(roomMembers.participantId, participantId)))
		.limit(1);
	return row ?? null;
}

/** Tries before derived rows give up until the room is loaded again (which replays them). */
const EFFECT_ATTEMPTS = 4;

/** Effects beyond the database: recordings of conversation stages (when LiveKit is set up). */
export type StudyRoomEffectHooks = {
	afterEffects?: (roomId: string, setup: StudyRoomSetup, events: RoomEvent[]) => Promise<void>;
};

/** The study-room services over one database, with retries for the derived rows. */
export function createStudyRoomServices(
	db: Database,
	hooks: StudyRoomEffectHooks = {}
): StudyRoomServices {
	return {
		loadSetup: (roomId) => loadStudyRoomSetup(db, roomId),
		isMember: (roomId, participantId) => isRoomMember(db, roomId, participantId),
		findMember: (roomId, participantId) => findRoomMember(db, roomId, participantId),
		async recordEffects(roomId, setup, events) {
			for (let attempt = 1; ; attempt++) {
				try {
					await recordStudyEffects(db, roomId, setup, events);
					break;
				} catch (error) {
					if (attempt >= EFFECT_ATTEMPTS) {
						log.error('study_room.effects_failed', {
							room: roomId,
							error: describeDatabaseError(error)
						});
						return;
					}
					await Bun.sleep(50 * 2 ** attempt);
				}
			}
			await hooks.afterEffects?.(roomId, setup, events).catch((error: unknown) => {
				log.error('study_room.after_effects_failed', {
					room: roomId,
					error: describeDatabaseError(error)
				});
			});
		}
	};
}
