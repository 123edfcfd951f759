import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users';

/**
 * Who viewed or exported which research data, when. Rows are only ever added. The study id is
 * plain text, not a foreign key, and the account's email is copied in: the record of an access
 * must outlive the study and the account it names.
 */
export const auditEvents = pgTable(
	'audit_events',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		at: timestamp('at', { withTimezone: true, precision: 3 }).notNull(),
		userId: text('user_id').references(() => users.id, { onDelete: 'set null' }),
		userEmail: text('user_email').notNull(),
		studyId: text('study_id'),
		/** e.g. `data.export`, `participant.export`, `participant.erase`, `room.replay`. */
		action: text('action').notNull(),
		/** What exactly: dataset, format, filters, participant id, row count. Never the data. */
		detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({})
	},
	(table) => [index('audit_events_study_idx').on(table.studyId, table.at)]
);

export type AuditEvent = typeof auditEvents.$inferSelect;
