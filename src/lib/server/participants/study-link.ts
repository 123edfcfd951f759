import { and, eq } from 'drizzle-orm';
import { parseStoredStudyDefinition, type StudyDefinition, type StudySettings } from '$lib/study';
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

/** The study behind a link, for the server: its id, status and newest published version. */
export type StudyEntry = {
	studyId: string;
	slug: string;
	status: StudyStatus;
	version: number;
	settings: StudySettings;
};

/**
 * Finds the study behind a participant link `/s/<slug>` with its newest published version.
 * Unpublished (draft-only) and archived studies are not found: a participant must never see a
 * draft.
 */
export async function findStudyEntry(db: Database, slug: string): Promise<StudyEntry | null> {
	const [row] = await db
		.select({
			studyId: studies.id,
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
	const parsed = parseStoredStudyDefinition(row.definition);
	if (!parsed.ok) throw new Error(`study version ${row.version} of /s/${slug} does not parse`);
	return {
		studyId: row.studyId,
		slug,
		status: row.status,
		version: row.version,
		settings: parsed.definition.settings
	};
}

/** The public face of the study behind `/s/<slug>`; null when there is none to show. */
export async function findPublicStudy(db: Database, slug: string): Promise<PublicStudy | null> {
	const entry = await findStudyEntry(db, slug);
	if (!entry) return null;
	const settings = entry.settings;
	return {
		status: entry.status,
		version: entry.version,
		participantTitle: settings.participantTitle.trim() || settings.title,
		language: settings.language,
		texts: settings.texts
	};
}
