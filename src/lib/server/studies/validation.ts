import {
	parseStoredStudyDefinition,
	validateStudy,
	type StudyDefinition,
	type StudyIssue,
	type ValidationContext
} from '../../study';
import type { SessionUser } from '../auth/sessions';
import { getEnv } from '../config/env';
import type { Executor } from '../db';
import { mediaItems } from '../db/schema';
import { loadStudyForUser } from './access';

/**
 * What publishing depends on outside a definition: whether LiveKit is configured, and the
 * media library (id → kind) so video stages can be checked against it.
 */
export async function getValidationContext(db: Executor): Promise<ValidationContext> {
	const rows = await db.select({ id: mediaItems.id, kind: mediaItems.kind }).from(mediaItems);
	return {
		livekitConfigured: getEnv().livekit !== null,
		media: new Map(rows.map((row) => [row.id, { kind: row.kind }]))
	};
}

/** Every reason `definition` could not be published right now; empty when it could. */
export async function listPublishIssues(db: Executor, definition: unknown): Promise<StudyIssue[]> {
	const result = validateStudy(definition, await getValidationContext(db));
	return result.ok ? [] : result.issues;
}

/** Checks a study's current draft against the publish rules. Anyone who can see it may ask. */
export async function validateDraft(
	db: Executor,
	user: SessionUser,
	id: string
): Promise<{ ok: true; issues: StudyIssue[] } | { ok: false; reason: 'not_found' }> {
	const found = await loadStudyForUser(db, user, id);
	if (!found) return { ok: false, reason: 'not_found' };
	return { ok: true, issues: await listPublishIssues(db, found.study.draft) };
}

/**
 * A stored draft or version as a definition, its keys back in schema order (jsonb sorts them
 * its own way). Stored definitions were shape-checked on the way in, so a failure here means
 * the schema moved on without a migration: an unexpected error, not an expected outcome.
 */
export function readStoredDefinition(studyId: string, stored: unknown): StudyDefinition {
	const parsed = parseStoredStudyDefinition(stored);
	if (!parsed.ok)
		throw new Error(`Study ${studyId} has a stored definition that no longer parses.`);
	return parsed.definition;
}
