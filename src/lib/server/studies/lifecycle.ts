import { eq } from 'drizzle-orm';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { studies, type StudyStatus } from '../db/schema';
import { canEditStudy, canManageStudy, loadStudyForUser } from './access';
import { recordStudyChange } from './changes';

export type StatusAction = 'pause' | 'resume' | 'close';

/** Which statuses each action leaves from, where it goes, and what to say otherwise. */
const TRANSITIONS: Record<
	StatusAction,
	{ from: StudyStatus[]; to: StudyStatus; change: 'paused' | 'resumed' | 'closed'; refusal: string }
> = {
	pause: {
		from: ['live'],
		to: 'paused',
		change: 'paused',
		refusal: 'Only a live study can be paused.'
	},
	resume: {
		from: ['paused'],
		to: 'live',
		change: 'resumed',
		refusal: 'Only a paused study can be resumed; a closed study goes live again by publishing.'
	},
	close: {
		from: ['live', 'paused'],
		to: 'closed',
		change: 'closed',
		refusal: 'Only a live or paused study can be closed.'
	}
};

export type SetStatusResult =
	| { ok: true; status: StudyStatus }
	| { ok: false; reason: 'not_found' | 'forbidden' }
	| { ok: false; reason: 'invalid_transition'; message: string };

/**
 * Pauses (live → paused), resumes (paused → live) or closes (live or paused → closed) a
 * study. A closed study goes live again only by publishing.
 */
export async function setStudyStatus(
	db: Database,
	user: SessionUser,
	id: string,
	action: StatusAction
): Promise<SetStatusResult> {
	const transition = TRANSITIONS[action];
	const now = new Date();
	return db.transaction(async (tx): Promise<SetStatusResult> => {
		const found = await loadStudyForUser(tx, user, id, { lock: true });
		if (!found) return { ok: false, reason: 'not_found' };
		if (!canEditStudy(found.access)) return { ok: false, reason: 'forbidden' };
		const from = found.study.status;
		if (!transition.from.includes(from)) {
			return { ok: false, reason: 'invalid_transition', message: transition.refusal };
		}
		await tx
			.update(studies)
			.set({ status: transition.to, updatedAt: now, updatedBy: user.id })
			.where(eq(studies.id, id));
		await recordStudyChange(tx, id, user.id, transition.change, { from, to: transition.to }, now);
		return { ok: true, status: transition.to };
	});
}

/** Archives (hides from the default list) or restores a study. Owners and admins only. */
export async function setStudyArchived(
	db: Database,
	user: SessionUser,
	id: string,
	archived: boolean
): Promise<{ ok: true } | { ok: false; reason: 'not_found' | 'forbidden' }> {
	const now = new Date();
	return db.transaction(async (tx) => {
		const found = await loadStudyForUser(tx, user, id, { lock: true });
		if (!found) return { ok: false, reason: 'not_found' } as const;
		if (!canManageStudy(found.access)) {
			return { ok: false, reason: 'forbidden' } as const;
		}
		if ((found.study.archivedAt !== null) === archived) return { ok: true } as const;
		await tx
			.update(studies)
			.set({ archivedAt: archived ? now : null, updatedAt: now, updatedBy: user.id })
			.where(eq(studies.id, id));
		await recordStudyChange(tx, id, user.id, archived ? 'archived' : 'unarchived', null, now);
		return { ok: true } as const;
	});
}
