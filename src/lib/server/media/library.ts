import { describeDatabaseError } from '../db/errors';
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { mediaItems, type MediaItem } from '../db/schema/media';
import { studies, studyVersionMedia, type StudyStatus } from '../db/schema/studies';
import { users, type Role } from '../db/schema/users';
import { log } from '../log';
import type { MediaStorage, StorageKind } from './storage';

/**
 * The media library is lab-wide: every signed-in user lists and views every item; researchers
 * and admins upload; the uploader or an admin deletes.
 */

/** A stored item with its uploader's name (null when the account is gone). */
export type MediaEntry = MediaItem & { ownerName: string | null };

/** What the API and the dashboard show of an item: no storage internals. */
export type MediaSummary = {
	id: string;
	filename: string;
	kind: MediaItem['kind'];
	contentType: string;
	sizeBytes: number;
	sha256: string;
	durationSeconds: number | null;
	width: number | null;
	height: number | null;
	createdAt: Date;
	owner: { id: string; name: string | null } | null;
	/** Where the bytes are served (ranges supported). */
	url: string;
};

/** Studies in these states are running: media they use cannot be deleted. */
const IN_USE_STATUSES: StudyStatus[] = ['live', 'paused'];

/** Turns an entry into its public description. */
export function describeMedia(entry: MediaEntry): MediaSummary {
	return {
		id: entry.id,
		filename: entry.filename,
		kind: entry.kind,
		contentType: entry.contentType,
		sizeBytes: entry.sizeBytes,
		sha256: entry.sha256,
		durationSeconds: entry.durationSeconds,
		width: entry.width,
		height: entry.height,
		createdAt: entry.createdAt,
		owner: entry.ownerId ? { id: entry.ownerId, name: entry.ownerName } : null,
		url: `/api/media/${encodeURIComponent(entry.id)}/file`
	};
}

/** Whether a role may add media to the library. */
export function canUploadMedia(role: Role): boolean {
	return role === 'admin' || role === 'researcher';
}

/** Whether `user` may delete `item`: its uploader or an admin, never a viewer. */
export function canDeleteMedia(
	user: Pick<SessionUser, 'id' | 'role'>,
	item: Pick<MediaItem, 'ownerId'>
): boolean {
	if (!canUploadMedia(user.role)) return false;
	return user.role === 'admin' || item.ownerId === user.id;
}

const entryColumns = { item: mediaItems, ownerName: users.name };

/** Every item in the library, newest first. */
export async function listMedia(db: Database): Promise<MediaEntry[]> {
	const rows = await db
		.select(entryColumns)
		.from(mediaItems)
		.leftJoin(users, eq(users.id, mediaItems.ownerId))
		.orderBy(desc(mediaItems.createdAt), asc(mediaItems.id));
	return rows.map((row) => ({ ...row.item, ownerName: row.ownerName }));
}

/** One item, or null when there is none with that id. */
export async function findMedia(db: Database, id: string): Promise<MediaEntry | null> {
	const [row] = await db
		.select(entryColumns)
		.from(mediaItems)
		.leftJoin(users, eq(users.id, mediaItems.ownerId))
		.where(eq(mediaItems.id, id))
		.limit(1);
	return row ? { ...row.item, ownerName: row.ownerName } : null;
}

/** The storage an item's bytes live in (items remember theirs), null when not configured. */
export type StorageResolver = (kind: StorageKind) => MediaStorage | null;

export type DeleteMediaResult =
	| { ok: true; item: MediaItem }
	| { ok: false; reason: 'not_found' | 'forbidden'; message: string }
	| { ok: false; reason: 'in_use'; message: string; studies: string[] };

/**
 * Deletes an item and its bytes. Refused while a published version of a live or paused study
 * uses it, and for anyone but its uploader or an admin. The row goes first, then the bytes: a
 * failure in between leaves an unreferenced file (logged), never a row without bytes.
 */
export async function deleteMedia(
	db: Database,
	storageFor: StorageResolver,
	user: Pick<SessionUser, 'id' | 'role'>,
	id: string
): Promise<DeleteMediaResult> {
	const outcome = await db.transaction(async (tx): Promise<DeleteMediaResult> => {
		// The row lock orders this delete with a concurrent publish that locks the items it uses
		// (`for share`), so a version cannot start using an item being deleted.
		const [item] = await tx
			.select()
			.from(mediaItems)
			.where(eq(mediaItems.id, id))
			.limit(1)
			.for('update');
		if (!item) return { ok: false, reason: 'not_found', message: 'There is no such media item.' };
		if (!canDeleteMedia(user, item)) {
			return {
				ok: false,
				reason: 'forbidden',
				message: 'Only the person who uploaded this item or an admin can delete it.'
			};
		}
		const using = await tx
			.selectDistinct({ title: studies.title })
			.from(studyVersionMedia)
			.innerJoin(studies, eq(studies.id, studyVersionMedia.studyId))
			.where(and(eq(studyVersionMedia.mediaId, id), inArray(studies.status, IN_USE_STATUSES)))
			.orderBy(asc(studies.title));
		if (using.length > 0) {
			const titles = using.map((row) => row.title);
			return {
				ok: false,
				reason: 'in_use',
				studies: titles,
				message: `“${item.filename}” is used by ${titles.length === 1 ? 'a running study' : 'running studies'}: ${titles.map((t) => `“${t}”`).join(', ')}. Close the ${titles.length === 1 ? 'study' : 'studies'} first.`
			};
		}
		await tx.delete(mediaItems).where(eq(mediaItems.id, id));
		return { ok: true, item };
	});
	if (outcome.ok) {
		const { item } = outcome;
		try {
			const storage = storageFor(item.storage as StorageKind);
			if (!storage) throw new Error(`${item.storage} storage is not configured`);
			await storage.remove(item.storageKey);
		} catch (error) {
			log.error('media.remove_failed', {
				id: item.id,
				storage: item.storage,
				error: describeDatabaseError(error)
			});
		}
	}
	return outcome;
}
