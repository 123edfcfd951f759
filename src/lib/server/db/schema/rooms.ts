import { sql } from 'drizzle-orm';
import {
	bigint,
	doublePrecision,
	index,
	integer,
	jsonb,
	pgTable,
	primaryKey,
	text,
	timestamp,
	uniqueIndex
} from 'drizzle-orm/pg-core';
import { users } from './users';

/**
 * A room: one running group (or an open or sandbox room). `head_seq` is the seq of its last
 * event; appends compare-and-set it, which is what makes concurrent writers on several replicas
 * safe (see event-store.ts).
 */
export const rooms = pgTable(
	'rooms',
	{
		id: text('id').primaryKey(),
		kind: text('kind').notNull(),
		title: text('title'),
		/** The study version a study room runs; null for sandbox rooms. */
		studyId: text('study_id'),
		studyVersion: integer('study_version'),
		headSeq: bigint('head_seq', { mode: 'number' }).notNull().default(0),
		createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
		closedAt: timestamp('closed_at', { withTimezone: true }),
		/**
		 * When the room's next deadline falls (a stage timer, a pause countdown, a member's
		 * absence), written with every append; null when only a command can change the room. The
		 * sweeper loads rooms whose wake-up is due, so deadlines fire with nobody connected.
		 */
		wakeAt: timestamp('wake_at', { withTimezone: true, precision: 3 }),
		/** A replica's claim on a due wake-up (the sweeper), so exactly one replica loads it. */
		wakeLeaseUntil: timestamp('wake_lease_until', { withTimezone: true, precision: 3 }),
		/**
		 * The replica holding the room's members' sockets (`replicas.id`), or null. When it stops
		 * beating, the sweeper loads the room elsewhere and members connected nowhere are gone.
		 */
		hostReplica: text('host_replica')
	},
	(table) => [
		// The monitor, the Rooms tab and exports list a study's rooms, newest first.
		index('rooms_study_idx').on(table.studyId, table.createdAt),
		// The sweeper's scans: only rooms that have a wake-up, or a host, at all.
		index('rooms_wake_at_idx')
			.on(table.wakeAt)
			.where(sql`${table.wakeAt} is not null`),
		index('rooms_host_replica_idx')
			.on(table.hostReplica)
			.where(sql`${table.hostReplica} is not null`)
	]
);

/** The durable, ordered log of everything that happened in a room. */
export const roomEvents = pgTable(
	'room_events',
	{
		roomId: text('room_id')
			.notNull()
			.references(() => rooms.id, { onDelete: 'cascade' }),
		seq: bigint('seq', { mode: 'number' }).notNull(),
		at: timestamp('at', { withTimezone: true, precision: 3 }).notNull(),
		actor: text('actor').notNull(),
		name: text('name').notNull(),
		payload: jsonb('payload').notNull(),
		/** The client command id; unique per room and actor so a retry is applied once. */
		clientId: text('client_id')
	},
	(table) => [
		primaryKey({ columns: [table.roomId, table.seq] }),
		uniqueIndex('room_events_client_id_idx')
			.on(table.roomId, table.actor, table.clientId)
			.where(sql`${table.clientId} is not null`)
	]
);

/** High-rate samples (ratings, sync quality, signals), written in batches. */
export const telemetrySamples = pgTable(
	'telemetry_samples',
	{
		roomId: text('room_id').notNull(),
		actor: text('actor').notNull(),
		/** Client-generated; a resent sample is stored once. */
		sampleId: text('sample_id').notNull(),
		kind: text('kind').notNull(),
		clientTime: doublePrecision('client_time').notNull(),
		receivedAt: timestamp('received_at', { withTimezone: true, precision: 3 }).notNull(),
		value: jsonb('value').notNull()
	},
	(table) => [
		primaryKey({ columns: [table.roomId, table.actor, table.sampleId] }),
		index('telemetry_samples_room_kind_idx').on(table.roomId, table.kind)
	]
);

/**
 * Room tickets already used to open a socket: a ticket opens one socket once. Rows are kept
 * until the ticket would have expired anyway, then swept.
 */
export const consumedRoomTickets = pgTable('consumed_room_tickets', {
	ticketId: text('ticket_id').primaryKey(),
	expiresAt: timestamp('expires_at', { withTimezone: true }).notNull()
});

/**
 * The running replicas, each pushing its `alive_until` on every second. A room whose host stopped
 * beating is loaded elsewhere by the sweeper (rooms/sweeper.ts).
 */
export const replicas = pgTable('replicas', {
	id: text('id').primaryKey(),
	aliveUntil: timestamp('alive_until', { withTimezone: true, precision: 3 }).notNull(),
	startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow()
});

/** Secrets generated once and shared by every replica (e.g. the room-ticket signing key). */
export const appSecrets = pgTable('app_secrets', {
	name: text('name').primaryKey(),
	value: text('value').notNull(),
	createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
});
