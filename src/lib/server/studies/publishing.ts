import { and, eq, inArray } from 'drizzle-orm';
import {
	hashStudyDefinition,
	validateStudy,
	type StudyDefinition,
	type StudyIssue
} from '../../study';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { mediaItems, studies, studyVersionMedia, studyVersions } from '../db/schema';
import { canEditStudy, loadStudyForUser } from './access';
import { recordStudyChange } from './changes';
import { getStudyLink } from './links';
import { getValidationContext } from './validation';

export type PublishResult =
	| { ok: true; version: number; contentHash: string; created: boolean; link: string }
	| { ok: false; reason: 'not_found' | 'forbidden' }
	| { ok: false; reason: 'invalid'; issues: StudyIssue[] };

/** Every media item a definition plays: each video stage's clip, variants included. */
export function collectMediaIds(definition: StudyDefinition): string[] {
	const ids = new Set<string>();
	for (const stage of definition.stages) {
		if (stage.type !== 'video') continue;
		for (const content of [stage.content, ...stage.variants.map((variant) => variant.content)]) {
			if (content.mediaId) ids.add(content.mediaId);
		}
	}
	return [...ids];
}

/**
 * Publishes the draft: it must pass the publish rules. An unchanged draft (same content hash
 * as the latest version) makes no new version but still puts the study live. Rooms already
 * running keep the version they started with.
 */
export async function publishStudy(
	db: Database,
	user: SessionUser,
	id: string
): Promise<PublishResult> {
	const context = await getValidationContext(db);
	const now = new Date();
	return db.transaction(async (tx): Promise<PublishResult> => {
		// The row lock serialises publishes of one study, so version numbers never race.
		const found = await loadStudyForUser(tx, user, id, { lock: true });
		if (!found) return { ok: false, reason: 'not_found' };
		if (!canEditStudy(found.access)) return { ok: false, reason: 'forbidden' };
		const { study } = found;
		const validated = validateStudy(study.draft, context);
		if (!validated.ok) return { ok: false, reason: 'invalid', issues: validated.issues };
		const definition = validated.definition;
		const mediaIds = collectMediaIds(definition);
		if (mediaIds.length > 0) {
			// Lock the items this version plays (`for share`): a concurrent delete locks its item
			// `for update`, so it either finished first (and the check below catches it) or waits
			// and then sees this version using the item.
			const present = await tx
				.select({ id: mediaItems.id, kind: mediaItems.kind })
				.from(mediaItems)
				.where(inArray(mediaItems.id, mediaIds))
				.for('share');
			if (present.length !== mediaIds.length) {
				const media = new Map(present.map((item) => [item.id, { kind: item.kind }]));
				const recheck = validateStudy(definition, { ...context, media });
				if (!recheck.ok) return { ok: false, reason: 'invalid', issues: recheck.issues };
			}
		}
		const contentHash = hashStudyDefinition(definition);
		const latest =
			study.latestVersion === null
				? undefined
				: (
						await tx
							.select({ contentHash: studyVersions.contentHash })
							.from(studyVersions)
							.where(
								and(eq(studyVersions.studyId, id), eq(studyVersions.version, study.latestVersion))
							)
					)[0];
		if (latest && latest.contentHash === contentHash && study.latestVersion !== null) {
			const version = study.latestVersion;
			if (study.status !== 'live') {
				await tx
					.update(studies)
					.set({ status: 'live', updatedAt: now, updatedBy: user.id })
					.where(eq(studies.id, id));
				await recordStudyChange(tx, id, user.id, 'published', { version, created: false }, now);
			}
			return { ok: true, version, contentHash, created: false, link: getStudyLink(study.slug) };
		}
		const version = (study.latestVersion ?? 0) + 1;
		await tx.insert(studyVersions).values({
			studyId: id,
			version,
			definition,
			contentHash,
			publishedAt: now,
			publishedBy: user.id
		});
		if (mediaIds.length > 0) {
			await tx
				.insert(studyVersionMedia)
				.values(mediaIds.map((mediaId) => ({ studyId: id, version, mediaId })));
		}
		await tx
			.update(studies)
			.set({ latestVersion: version, status: 'live', updatedAt: now, updatedBy: user.id })
			.where(eq(studies.id, id));
		await recordStudyChange(tx, id, user.id, 'published', { version, contentHash }, now);
		return { ok: true, version, contentHash, created: true, link: getStudyLink(study.slug) };
	});
}
