import {
	bigint,
	doublePrecision,
	index,
	integer,
	pgEnum,
	pgTable,
	text,
	timestamp
} from 'drizzle-orm/pg-core';
import { users } from './users';

export const MEDIA_KINDS = ['video', 'audio', 'image'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];
export const mediaKind = pgEnum('media_kind', MEDIA_KINDS);

/**
 * The lab's media library. The bytes live in storage (`DATA_DIR/media` or S3) under
 * `storage_key`; `content_type` is what sniffing found, never what the upload claimed.
 */
export const mediaItems = pgTable(
	'media_items',
	{
		id: text('id').primaryKey(),
		ownerId: text('owner_id').references(() => users.id, { onDelete: 'set null' }),
		/** The uploader's file name, for display only. */
		filename: text('filename').notNull(),
		kind: mediaKind('kind').notNull(),
		contentType: text('content_type').notNull(),
		sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
		sha256: text('sha256').notNull(),
		storage: text('storage').notNull(),
		storageKey: text('storage_key').notNull(),
		/** From ffprobe when available; null when unknown. */
		durationSeconds: doublePrecision('duration_seconds'),
		width: integer('width'),
		height: integer('height'),
		createdAt: timestamp('created_at', { withTimezone: true }).notNull()
	},
	(table) => [index('media_items_owner_idx').on(table.ownerId)]
);

export type MediaItem = typeof mediaItems.$inferSelect;
