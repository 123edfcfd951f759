import { and, eq } from 'drizzle-orm';
import type { Database } from '../db';
import { mediaItems, studyVersionMedia, type MediaItem } from '../db/schema';
import { findLinkParticipant } from './journey';

export type ParticipantMediaResult =
	{ ok: true; item: MediaItem } | { ok: false; reason: 'no_participant' | 'not_found' };

/**
 * A media item a participant may play: one their own study version uses (as recorded at
 * publish in `study_version_media`), never any other item in the library. An item of another
 * version, another study, or none at all is the same `not_found`, so a participant learns
 * nothing about what the library holds.
 */
export async function findParticipantMedia(
	db: Database,
	slug: string,
	token: string | null,
	mediaId: string
): Promise<ParticipantMediaResult> {
	const participant = await findLinkParticipant(db, slug, token);
	if (!participant) return { ok: false, reason: 'no_participant' };
	const [row] = await db
		.select({ item: mediaItems })
		.from(studyVersionMedia)
		// An inner join: a version may still name an item deleted after its study closed.
		.innerJoin(mediaItems, eq(mediaItems.id, studyVersionMedia.mediaId))
		.where(
			and(
				eq(studyVersionMedia.studyId, participant.studyId),
				eq(studyVersionMedia.version, participant.version),
				eq(studyVersionMedia.mediaId, mediaId)
			)
		)
		.limit(1);
	return row ? { ok: true, item: row.item } : { ok: false, reason: 'not_found' };
}
