import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users';

/**
 * Experimenter sessions, the Lucia way: the cookie holds `id.secret`, the table holds only a
 * SHA-256 of the secret (hex), so a leaked table cannot be replayed as cookies.
 */
export const sessions = pgTable(
	'sessions',
	{
		id: text('id').primaryKey(),
		secretHash: text('secret_hash').notNull(),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
		/** Last time the session was used; drives the inactivity timeout. */
		lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
		/** Absolute end of the session, whatever the activity. */
		expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
		userAgent: text('user_agent'),
		ipAddress: text('ip_address')
	},
	(table) => [index('sessions_user_id_idx').on(table.userId)]
);

export type Session = typeof sessions.$inferSelect;
