import { sql } from 'drizzle-orm';
import {
	boolean,
	index,
	integer,
	jsonb,
	pgEnum,
	pgTable,
	primaryKey,
	text,
	timestamp,
	uniqueIndex
} from 'drizzle-orm/pg-core';
import type { Outcome } from '../../../study/schema';
import { rooms } from './rooms';
import { studies } from './studies';

/**
 * Where a participant stands: `consenting` (individual pre-room stages), `waiting` (in the
 * waiting room), `in_room`, `finished` (has its one outcome) or `left` (closed the tab while
 * waiting; no outcome yet, may come back).
 */
export const PARTICIPANT_STATUSES = [
	'consenting',
	'waiting',
	'in_room',
	'finished',
	'left'
] as const;
export type ParticipantStatus = (typeof PARTICIPANT_STATUSES)[number];
export const participantStatus = pgEnum('participant_status', PARTICIPANT_STATUSES);

/**
 * A person (or a bot) taking part in one study version. Identified by a random token kept in
 * an HttpOnly cookie; only its SHA-256 is stored. External ids (Prolific) live in
 * `participant_external_ids`, so nothing exported with responses carries them.
 */
export const participants = pgTable(
	'participants',
	{
		id: text('id').primaryKey(),
		studyId: text('study_id')
			.notNull()
			.references(() => studies.id, { onDelete: 'cascade' }),
		version: integer('version').notNull(),
		/** SHA-256 (hex) of the participant's 128-bit token; never the token. */
		tokenHash: text('token_hash').notNull().unique(),
		status: participantStatus('status').notNull().default('consenting'),
		roomId: text('room_id').references(() => rooms.id, { onDelete: 'set null' }),
		role: text('role'),
		condition: text('condition'),
		/** One of the study outcomes; written once (updates say `where outcome is null`). */
		outcome: text('outcome').$type<Outcome>(),
		outcomeAt: timestamp('outcome_at', { withTimezone: true, precision: 3 }),
		isBot: boolean('is_bot').notNull().default(false),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
		lastSeenAt: timestamp('last_seen_at', { withTimezone: true, precision: 3 }).notNull(),
		/** When the participant (last) entered the waiting room; orders matching, oldest first. */
		waitingSince: timestamp('waiting_since', { withTimezone: true, precision: 3 }),
		/** The study link's other URL parameters, kept as given (string values). */
		linkParams: jsonb('link_params').$type<Record<string, string>>().notNull().default({})
	},
	(table) => [
		index('participants_study_idx').on(table.studyId),
		index('participants_waiting_idx')
			.on(table.studyId, table.waitingSince)
			.where(sql`${table.status} = 'waiting'`),
		index('participants_room_idx').on(table.roomId),
		// Ghosts still owed a lobby outcome (matching/ghosts.ts looks every second).
		index('participants_ghosts_idx')
			.on(table.waitingSince)
			.where(sql`${table.status} = 'left' and ${table.outcome} is null`)
	]
);

/** Ids from recruiting platforms (e.g. Prolific's PROLIFIC_PID), apart from response data. */
export const participantExternalIds = pgTable(
	'participant_external_ids',
	{
		participantId: text('participant_id')
			.notNull()
			.references(() => participants.id, { onDelete: 'cascade' }),
		/** Where the id comes from, e.g. `prolific`. */
		source: text('source').notNull(),
		/** The parameter name, e.g. `PROLIFIC_PID`. */
		name: text('name').notNull(),
		value: text('value').notNull()
	},
	(table) => [
		primaryKey({ columns: [table.participantId, table.source, table.name] }),
		index('participant_external_ids_value_idx').on(table.source, table.name, table.value)
	]
);

/**
 * Who is in which study room, with the role and condition given at formation. A participant
 * belongs to one room for its whole life: the unique index makes the database refuse a second.
 */
export const roomMembers = pgTable(
	'room_members',
	{
		roomId: text('room_id')
			.notNull()
			.references(() => rooms.id, { onDelete: 'cascade' }),
		participantId: text('participant_id')
			.notNull()
			.references(() => participants.id, { onDelete: 'cascade' }),
		role: text('role'),
		condition: text('condition'),
		joinedAt: timestamp('joined_at', { withTimezone: true, precision: 3 }).notNull()
	},
	(table) => [
		primaryKey({ columns: [table.roomId, table.participantId] }),
		uniqueIndex('room_members_participant_idx').on(table.participantId)
	]
);

/**
 * Open-mode rooms (join by invite code up to the capacity). The condition is chosen when the
 * room is made, so members joining later (or an experimenter-made room) share it.
 */
export const openRooms = pgTable(
	'open_rooms',
	{
		roomId: text('room_id')
			.primaryKey()
			.references(() => rooms.id, { onDelete: 'cascade' }),
		studyId: text('study_id')
			.notNull()
			.references(() => studies.id, { onDelete: 'cascade' }),
		/** Short, unambiguous, unique across studies so a code alone can find its room. */
		code: text('code').notNull().unique(),
		condition: text('condition'),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull()
	},
	(table) => [index('open_rooms_study_idx').on(table.studyId)]
);

/**
 * One row per participant and stage, for export. Unique on (participant, stage): a resent
 * submission never duplicates. `room_id` is null for stages run before the room (consent). A
 * data stage that ended for a member without their answer has an `incomplete` row, so a tab
 * closed mid-stage reads as "reached, not answered", never as a missing row.
 */
export const stageResponses = pgTable(
	'stage_responses',
	{
		participantId: text('participant_id')
			.notNull()
			.references(() => participants.id, { onDelete: 'cascade' }),
		roomId: text('room_id').references(() => rooms.id, { onDelete: 'set null' }),
		studyId: text('study_id')
			.notNull()
			.references(() => studies.id, { onDelete: 'cascade' }),
		version: integer('version').notNull(),
		stageId: text('stage_id').notNull(),
		stageIndex: integer('stage_index').notNull(),
		/** `incomplete`: the stage ended for the member without an answer (room/study/incomplete.ts). */
		status: text('status').$type<'submitted' | 'incomplete'>().notNull().default('submitted'),
		/** Null when submitted; else `stage_ended` or the outcome the member left with. */
		incompleteReason: text('incomplete_reason'),
		/** The answer; null for an incomplete stage. */
		response: jsonb('response'),
		clientId: text('client_id'),
		submittedAt: timestamp('submitted_at', { withTimezone: true, precision: 3 }).notNull()
	},
	(table) => [
		primaryKey({ columns: [table.participantId, table.stageId] }),
		index('stage_responses_study_idx').on(table.studyId, table.version, table.stageId)
	]
);

export type Participant = typeof participants.$inferSelect;
export type NewParticipant = typeof participants.$inferInsert;
export type RoomMember = typeof roomMembers.$inferSelect;
export type StageResponse = typeof stageResponses.$inferSelect;
