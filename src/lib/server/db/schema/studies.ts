import {
	bigserial,
	boolean,
	index,
	integer,
	jsonb,
	pgEnum,
	pgTable,
	primaryKey,
	text,
	timestamp
} from 'drizzle-orm/pg-core';
import { users } from './users';

export const STUDY_STATUSES = ['draft', 'live', 'paused', 'closed'] as const;
export type StudyStatus = (typeof STUDY_STATUSES)[number];
export const studyStatus = pgEnum('study_status', STUDY_STATUSES);

export const STUDY_PERMISSIONS = ['edit', 'view'] as const;
export type StudyPermission = (typeof STUDY_PERMISSIONS)[number];
export const studyPermission = pgEnum('study_permission', STUDY_PERMISSIONS);

/**
 * A study: its editable draft and where it stands. Published versions live in
 * `study_versions` and never change; `draft_revision` lets autosave refuse a stale write.
 */
export const studies = pgTable(
	'studies',
	{
		id: text('id').primaryKey(),
		/** The public link is `/s/<slug>`; random, so links cannot be guessed. */
		slug: text('slug').notNull().unique(),
		ownerId: text('owner_id')
			.notNull()
			.references(() => users.id, { onDelete: 'restrict' }),
		/** Copied from the draft for listing without parsing definitions. */
		title: text('title').notNull(),
		status: studyStatus('status').notNull().default('draft'),
		draft: jsonb('draft').notNull(),
		draftRevision: integer('draft_revision').notNull().default(1),
		/** The newest published version number, or null before the first publish. */
		latestVersion: integer('latest_version'),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
		updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
		updatedBy: text('updated_by').references(() => users.id, { onDelete: 'set null' }),
		archivedAt: timestamp('archived_at', { withTimezone: true })
	},
	(table) => [index('studies_owner_idx').on(table.ownerId)]
);

/** An immutable published definition. Rooms and data rows refer to (study, version). */
export const studyVersions = pgTable(
	'study_versions',
	{
		studyId: text('study_id')
			.notNull()
			.references(() => studies.id, { onDelete: 'cascade' }),
		version: integer('version').notNull(),
		definition: jsonb('definition').notNull(),
		/** SHA-256 of the canonical JSON of the definition (lib/study/hash.ts). */
		contentHash: text('content_hash').notNull(),
		publishedAt: timestamp('published_at', { withTimezone: true }).notNull(),
		publishedBy: text('published_by').references(() => users.id, { onDelete: 'set null' })
	},
	(table) => [primaryKey({ columns: [table.studyId, table.version] })]
);

/** Media items a published version uses; deleting such an item is refused while it is live. */
export const studyVersionMedia = pgTable(
	'study_version_media',
	{
		studyId: text('study_id').notNull(),
		version: integer('version').notNull(),
		mediaId: text('media_id').notNull()
	},
	(table) => [
		primaryKey({ columns: [table.studyId, table.version, table.mediaId] }),
		index('study_version_media_media_idx').on(table.mediaId)
	]
);

/** Colleagues a study is shared with (the owner is not listed here). */
export const studyMembers = pgTable(
	'study_members',
	{
		studyId: text('study_id')
			.notNull()
			.references(() => studies.id, { onDelete: 'cascade' }),
		userId: text('user_id')
			.notNull()
			.references(() => users.id, { onDelete: 'cascade' }),
		permission: studyPermission('permission').notNull(),
		/**
		 * The data permission: may see external ids (Prolific PIDs) and export or erase one
		 * participant's data. Owners and admins always have it; colleagues only when granted.
		 */
		dataAccess: boolean('data_access').notNull().default(false),
		grantedBy: text('granted_by').references(() => users.id, { onDelete: 'set null' }),
		grantedAt: timestamp('granted_at', { withTimezone: true }).notNull()
	},
	(table) => [
		primaryKey({ columns: [table.studyId, table.userId] }),
		index('study_members_user_idx').on(table.userId)
	]
);

/** Who changed what, when: every write to a study is attributed here. */
export const studyChanges = pgTable(
	'study_changes',
	{
		id: bigserial('id', { mode: 'number' }).primaryKey(),
		studyId: text('study_id')
			.notNull()
			.references(() => studies.id, { onDelete: 'cascade' }),
		userId: text('user_id').references(() => users.id, { onDelete: 'set null' }),
		at: timestamp('at', { withTimezone: true }).notNull(),
		action: text('action').notNull(),
		detail: jsonb('detail')
	},
	(table) => [index('study_changes_study_idx').on(table.studyId, table.at)]
);

export type Study = typeof studies.$inferSelect;
export type StudyVersion = typeof studyVersions.$inferSelect;
export type StudyMember = typeof studyMembers.$inferSelect;
