import { desc, eq } from 'drizzle-orm';
import type { Executor } from '../db';
import { studyChanges, users } from '../db/schema';
import type { StudyChangeAction, StudyChangeListing } from './types';

/**
 * Saves by the same person within this window update one `draft_saved` row instead of adding
 * one per autosave, so the log stays readable while still saying who edited last and when.
 */
export const DRAFT_SAVE_COALESCE_MS = 5 * 60_000;

/** How many changes the study page shows. */
const CHANGES_SHOWN = 50;

/** Appends one entry to a study's change log. */
export async function recordStudyChange(
	db: Executor,
	studyId: string,
	userId: string,
	action: StudyChangeAction,
	detail: Record<string, unknown> | null,
	now: Date
): Promise<void> {
	await db.insert(studyChanges).values({ studyId, userId, action, detail, at: now });
}

type DraftSavedDetail = { fromRevision: number; revision: number };

/**
 * Logs a draft save from `fromRevision` to `revision`. When the study's newest entry is a save
 * by the same user within `DRAFT_SAVE_COALESCE_MS`, that entry is extended instead.
 * Assumes the caller holds the study row (the save's UPDATE), so two saves cannot interleave.
 */
export async function recordDraftSaved(
	db: Executor,
	studyId: string,
	userId: string,
	fromRevision: number,
	revision: number,
	now: Date
): Promise<void> {
	const [latest] = await db
		.select()
		.from(studyChanges)
		.where(eq(studyChanges.studyId, studyId))
		.orderBy(desc(studyChanges.at), desc(studyChanges.id))
		.limit(1);
	const coalesce =
		latest &&
		latest.action === 'draft_saved' &&
		latest.userId === userId &&
		now.getTime() - latest.at.getTime() < DRAFT_SAVE_COALESCE_MS;
	if (coalesce) {
		const previous = latest.detail as Partial<DraftSavedDetail> | null;
		const detail: DraftSavedDetail = {
			fromRevision: previous?.fromRevision ?? fromRevision,
			revision
		};
		await db.update(studyChanges).set({ at: now, detail }).where(eq(studyChanges.id, latest.id));
		return;
	}
	const detail: DraftSavedDetail = { fromRevision, revision };
	await recordStudyChange(db, studyId, userId, 'draft_saved', detail, now);
}

/** The newest changes of a study with the name of who made them. */
export async function listStudyChanges(
	db: Executor,
	studyId: string,
	limit = CHANGES_SHOWN
): Promise<StudyChangeListing[]> {
	return db
		.select({
			at: studyChanges.at,
			user: users.name,
			action: studyChanges.action,
			detail: studyChanges.detail
		})
		.from(studyChanges)
		.leftJoin(users, eq(users.id, studyChanges.userId))
		.where(eq(studyChanges.studyId, studyId))
		.orderBy(desc(studyChanges.at), desc(studyChanges.id))
		.limit(limit);
}
