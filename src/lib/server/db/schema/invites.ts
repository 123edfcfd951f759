import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { userRole, users } from './users';

/** Invitations to create an account; the link carries a token, the table only its SHA-256. */
export const invites = pgTable(
	'invites',
	{
		id: text('id').primaryKey(),
		tokenHash: text('token_hash').notNull().unique(),
		role: userRole('role').notNull(),
		/** When set, only this (lower-cased) address may accept the invite. */
		email: text('email'),
		createdBy: text('created_by')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
		expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
		acceptedAt: timestamp('accepted_at', { withTimezone: true }),
		acceptedBy: text('accepted_by').references(() => users.id, { onDelete: 'set null' }),
		revokedAt: timestamp('revoked_at', { withTimezone: true })
	},
	(table) => [index('invites_created_by_idx').on(table.createdBy)]
);

export type Invite = typeof invites.$inferSelect;
