import { and, eq } from 'drizzle-orm';
import type { SessionUser } from '../auth/sessions';
import type { Executor } from '../db';
import { studies, studyMembers, type Role, type Study, type StudyPermission } from '../db/schema';
import type { StudyAccess } from './types';

/**
 * Who may do what with a study. Admins reach every study; others reach the studies they own
 * or that were shared with them. A `viewer` account never gets more than `view`, whatever it
 * owns or was granted, so demoting someone takes their write access at once.
 */

/** The access `user` has to a study, or null when it is not visible to them. */
export function resolveStudyAccess(
	user: Pick<SessionUser, 'id' | 'role'>,
	ownerId: string,
	permission: StudyPermission | null
): StudyAccess | null {
	if (user.role === 'admin') return 'admin';
	let access: StudyAccess | null;
	if (ownerId === user.id) access = 'owner';
	else access = permission;
	if (access && user.role === 'viewer') return 'view';
	return access;
}

/** Edit the draft, publish, pause, resume and close. */
export function canEditStudy(access: StudyAccess): boolean {
	return access !== 'view';
}

/** Share, unshare, archive. */
export function canManageStudy(access: StudyAccess): boolean {
	return access === 'admin' || access === 'owner';
}

/** Whether a role may create, import or duplicate studies. */
export function canCreateStudies(role: Role): boolean {
	return role === 'admin' || role === 'researcher';
}

/**
 * The data permission: see external ids and export or erase one participant's data. Admins and
 * owners have it; a colleague only when granted, and never on a `view`-only account role.
 */
export function resolveDataAccess(
	user: Pick<SessionUser, 'role'>,
	access: StudyAccess,
	granted: boolean
): boolean {
	if (access === 'admin' || access === 'owner') return true;
	return granted && user.role !== 'viewer';
}

/** `dataAccess`: the data permission (see resolveDataAccess). */
export type StudyForUser = { study: Study; access: StudyAccess; dataAccess: boolean };

/**
 * Loads a study with the user's access; null when it does not exist or the user cannot see
 * it, which callers report the same way (404) so ids of others' studies are not confirmed.
 * Pass `lock` inside a transaction to hold the row until it commits.
 */
export async function loadStudyForUser(
	db: Executor,
	user: Pick<SessionUser, 'id' | 'role'>,
	id: string,
	options: { lock?: boolean } = {}
): Promise<StudyForUser | null> {
	if (id.length > 64) return null;
	const query = db.select().from(studies).where(eq(studies.id, id)).limit(1);
	const [study] = options.lock ? await query.for('update') : await query;
	if (!study) return null;
	let permission: StudyPermission | null = null;
	let granted = false;
	if (user.role !== 'admin' && study.ownerId !== user.id) {
		const [member] = await db
			.select({ permission: studyMembers.permission, dataAccess: studyMembers.dataAccess })
			.from(studyMembers)
			.where(and(eq(studyMembers.studyId, id), eq(studyMembers.userId, user.id)))
			.limit(1);
		permission = member?.permission ?? null;
		granted = member?.dataAccess ?? false;
	}
	const access = resolveStudyAccess(user, study.ownerId, permission);
	return access ? { study, access, dataAccess: resolveDataAccess(user, access, granted) } : null;
}
