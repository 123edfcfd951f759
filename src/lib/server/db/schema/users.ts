import { pgEnum, pgTable, text, timestamp, type AnyPgColumn } from 'drizzle-orm/pg-core';

export const ROLES = ['admin', 'researcher', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const userRole = pgEnum('user_role', ROLES);

/** Experimenter accounts (participants are not users). */
export const users = pgTable('users', {
	id: text('id').primaryKey(),
	/** Stored lower-cased; unique. */
	email: text('email').notNull().unique(),
	name: text('name').notNull(),
	passwordHash: text('password_hash').notNull(),
	role: userRole('role').notNull(),
	invitedBy: text('invited_by').references((): AnyPgColumn => users.id, { onDelete: 'set null' }),
	createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
	disabledAt: timestamp('disabled_at', { withTimezone: true })
});

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
