import { and, eq } from 'drizzle-orm';
import { parseStudyDefinition, type StudyDefinition } from '$lib/study';
import type { Database } from '../db';
import { studies, studyVersions, type StudyStatus } from '../db/schema';

/** What a study link shows before anyone joins: the published version's public face. */
export type PublicStudy = {
	status: StudyStatus;
	version: number;
	participantTitle: string;
	language: string;
	texts: StudyDefinition['settings']['texts'];
};

/**
 * Finds the study behind a participant link `/s/<slug>`. Unpublished (draft-only) and archived
 * studies are not found: a participant must never see a draft.
 */
export async function findPublicStudy(db: Database, slug: string): Promise<PublicStudy | null> {
	const [row] = await db
		.select({
			status: studies.status,
			archivedAt: studies.archivedAt,
			version: studyVersions.version,
			definition: studyVersions.definition
		})
		.from(studies)
		.innerJoin(
			studyVersions,
			and(eq(studyVersions.studyId, studies.id), eq(studyVersions.version, studies.latestVersion))
		)
		.where(eq(studies.slug, slug))
		.limit(1);
	if (!row || row.archivedAt) return null;
	const parsed = parseStudyDefinition(row.definition);
	if (!parsed.ok) throw new Error(`study version ${row.version} of /s/${slug} does not parse`);
	const settings = parsed.definition.settings;
	return {
		status: row.status,
		version: row.version,
		participantTitle: settings.participantTitle.trim() || settings.title,
		language: settings.language,
		texts: settings.texts
	};
}
