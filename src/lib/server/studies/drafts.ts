import { and, eq, sql } from 'drizzle-orm';
import { parseStudyDefinition, type StudyIssue } from '../../study';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { studies } from '../db/schema';
import { canEditStudy, loadStudyForUser } from './access';
import { recordDraftSaved } from './changes';
import { listPublishIssues } from './validation';

export type SaveDraftResult =
	| { ok: true; revision: number; updatedAt: Date }
	| { ok: false; reason: 'not_found' | 'forbidden' }
	| { ok: false; reason: 'invalid'; issues: StudyIssue[] }
	| { ok: false; reason: 'conflict'; revision: number };

/**
 * Saves a draft the editor holds at `revision`. The definition must have a valid shape (the
 * publish rules need not pass yet). The revision goes up only when the content changed; a
 * stale revision is refused with the current one so the editor can reload instead of
 * overwriting a colleague's work.
 */
export async function saveDraft(
	db: Database,
	user: SessionUser,
	id: string,
	input: { definition: unknown; revision: number }
): Promise<SaveDraftResult> {
	const found = await loadStudyForUser(db, user, id);
	if (!found) return { ok: false, reason: 'not_found' };
	if (!canEditStudy(found.access)) return { ok: false, reason: 'forbidden' };
	const parsed = parseStudyDefinition(input.definition);
	if (!parsed.ok) return { ok: false, reason: 'invalid', issues: parsed.issues };
	const definition = parsed.definition;
	const now = new Date();
	return db.transaction(async (tx): Promise<SaveDraftResult> => {
		// Compare-and-set in one statement: two editors saving at once cannot both win.
		const [saved] = await tx
			.update(studies)
			.set({
				draft: definition,
				title: definition.settings.title,
				draftRevision: sql`${studies.draftRevision} + 1`,
				updatedAt: now,
				updatedBy: user.id
			})
			.where(
				and(
					eq(studies.id, id),
					eq(studies.draftRevision, input.revision),
					sql`${studies.draft} is distinct from ${JSON.stringify(definition)}::jsonb`
				)
			)
			.returning({ revision: studies.draftRevision });
		if (saved) {
			await recordDraftSaved(tx, id, user.id, input.revision, saved.revision, now);
			return { ok: true, revision: saved.revision, updatedAt: now };
		}
		const [current] = await tx
			.select({ revision: studies.draftRevision, updatedAt: studies.updatedAt })
			.from(studies)
			.where(eq(studies.id, id));
		if (!current) return { ok: false, reason: 'not_found' };
		if (current.revision !== input.revision) {
			return { ok: false, reason: 'conflict', revision: current.revision };
		}
		// Same revision, same content: nothing to write.
		return { ok: true, revision: current.revision, updatedAt: current.updatedAt };
	});
}

/**
 * `saveDraft`, and on success the publish issues of what was saved, for the editor to show
 * (they do not stop the save).
 */
export async function saveDraftAndCheck(
	db: Database,
	user: SessionUser,
	id: string,
	input: { definition: unknown; revision: number }
): Promise<
	| Exclude<SaveDraftResult, { ok: true }>
	| { ok: true; revision: number; updatedAt: Date; issues: StudyIssue[] }
> {
	const result = await saveDraft(db, user, id, input);
	if (!result.ok) return result;
	return { ...result, issues: await listPublishIssues(db, input.definition) };
}
