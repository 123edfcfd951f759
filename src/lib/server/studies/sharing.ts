import { and, asc, eq } from 'drizzle-orm';
import type { SessionUser } from '../auth/sessions';
import type { Database, Executor } from '../db';
import { studyMembers, users, type StudyPermission } from '../db/schema';
import { recordAudit } from '../audit/record';
import { canManageStudy, loadStudyForUser } from './access';
import { recordStudyChange } from './changes';
import type { StudyMemberListing } from './types';

export type ShareResult =
	| { ok: true }
	| {
			ok: false;
			reason: 'not_found' | 'forbidden' | 'unknown_user' | 'owner' | 'viewer_account';
	  };

/** What `shareStudy` sets; `dataAccess` left out keeps a colleague's data permission as it is. */
export type ShareInput = { email: string; permission: StudyPermission; dataAccess?: boolean };

/**
 * Shares a study with the colleague who has `email`, or changes their permission and data
 * permission (see resolveDataAccess). Owners and admins only. The owner cannot be added (they
 * already have full access), and an account with the viewer role cannot get the data
 * permission. A new member or another permission is logged as `shared`; granting or revoking
 * the data permission is logged in the change log and in the audit log.
 */
export async function shareStudy(
	db: Database,
	user: SessionUser,
	id: string,
	input: ShareInput
): Promise<ShareResult> {
	const now = new Date();
	return db.transaction(async (tx): Promise<ShareResult> => {
		const found = await loadStudyForUser(tx, user, id, { lock: true });
		if (!found) return { ok: false, reason: 'not_found' };
		if (!canManageStudy(found.access)) return { ok: false, reason: 'forbidden' };
		const email = input.email.trim().toLowerCase();
		const [member] = await tx
			.select({ id: users.id, role: users.role })
			.from(users)
			.where(eq(users.email, email))
			.limit(1);
		if (!member) return { ok: false, reason: 'unknown_user' };
		if (member.id === found.study.ownerId) return { ok: false, reason: 'owner' };
		if (input.dataAccess === true && member.role === 'viewer') {
			return { ok: false, reason: 'viewer_account' };
		}
		const [previous] = await tx
			.select({ permission: studyMembers.permission, dataAccess: studyMembers.dataAccess })
			.from(studyMembers)
			.where(and(eq(studyMembers.studyId, id), eq(studyMembers.userId, member.id)))
			.limit(1);
		const dataAccess = input.dataAccess ?? previous?.dataAccess ?? false;
		await tx
			.insert(studyMembers)
			.values({
				studyId: id,
				userId: member.id,
				permission: input.permission,
				dataAccess,
				grantedBy: user.id,
				grantedAt: now
			})
			.onConflictDoUpdate({
				target: [studyMembers.studyId, studyMembers.userId],
				set: { permission: input.permission, dataAccess, grantedBy: user.id, grantedAt: now }
			});
		if (!previous || previous.permission !== input.permission) {
			await recordStudyChange(
				tx,
				id,
				user.id,
				'shared',
				{ userId: member.id, email, permission: input.permission, dataAccess },
				now
			);
		}
		if ((previous?.dataAccess ?? false) !== dataAccess) {
			await recordDataAccessChange(tx, user, id, { userId: member.id, email }, dataAccess, now);
		}
		return { ok: true };
	});
}

/**
 * Logs that a colleague got or lost the data permission: in the study's change log (what the
 * History panel shows) and in the audit log (who could reach personal data, and since when).
 */
async function recordDataAccessChange(
	tx: Executor,
	user: SessionUser,
	studyId: string,
	member: { userId: string; email: string },
	granted: boolean,
	now: Date
): Promise<void> {
	await recordStudyChange(
		tx,
		studyId,
		user.id,
		granted ? 'data_access_granted' : 'data_access_revoked',
		member,
		now
	);
	await recordAudit(tx, {
		user,
		studyId,
		action: granted ? 'data_access.grant' : 'data_access.revoke',
		detail: member
	});
}

/**
 * Takes a colleague off a study. Owners and admins only; removing a non-member is a no-op.
 * Removing someone who had the data permission also logs that they lost it.
 */
export async function unshareStudy(
	db: Database,
	user: SessionUser,
	id: string,
	userId: string
): Promise<{ ok: true } | { ok: false; reason: 'not_found' | 'forbidden' }> {
	const now = new Date();
	return db.transaction(async (tx) => {
		const found = await loadStudyForUser(tx, user, id, { lock: true });
		if (!found) return { ok: false, reason: 'not_found' } as const;
		if (!canManageStudy(found.access)) return { ok: false, reason: 'forbidden' } as const;
		const removed = await tx
			.delete(studyMembers)
			.where(and(eq(studyMembers.studyId, id), eq(studyMembers.userId, userId)))
			.returning({ userId: studyMembers.userId, dataAccess: studyMembers.dataAccess });
		if (removed.length > 0) {
			await recordStudyChange(tx, id, user.id, 'unshared', { userId }, now);
		}
		if (removed[0]?.dataAccess) {
			const [member] = await tx
				.select({ email: users.email })
				.from(users)
				.where(eq(users.id, userId))
				.limit(1);
			await recordAudit(tx, {
				user,
				studyId: id,
				action: 'data_access.revoke',
				detail: { userId, email: member?.email ?? null, unshared: true }
			});
		}
		return { ok: true } as const;
	});
}

/**
 * The colleagues a study is shared with, by name. `dataAccess` is what the permission gives
 * them now: a grant to an account that has since become a viewer counts for nothing.
 */
export async function listMembersOfStudy(
	db: Executor,
	studyId: string
): Promise<StudyMemberListing[]> {
	const rows = await db
		.select({
			userId: studyMembers.userId,
			name: users.name,
			email: users.email,
			permission: studyMembers.permission,
			dataAccess: studyMembers.dataAccess,
			role: users.role
		})
		.from(studyMembers)
		.innerJoin(users, eq(users.id, studyMembers.userId))
		.where(eq(studyMembers.studyId, studyId))
		.orderBy(asc(users.name));
	return rows.map(({ role, dataAccess, ...member }) => ({
		...member,
		dataAccess: dataAccess && role !== 'viewer'
	}));
}

export type StudyMembersResult =
	| {
			ok: true;
			owner: { id: string; name: string; email: string };
			members: StudyMemberListing[];
	  }
	| { ok: false; reason: 'not_found' };

/** The owner and the colleagues of a study, for anyone who can see it. */
export async function listStudyMembers(
	db: Database,
	user: SessionUser,
	id: string
): Promise<StudyMembersResult> {
	const found = await loadStudyForUser(db, user, id);
	if (!found) return { ok: false, reason: 'not_found' };
	const [owner] = await db
		.select({ id: users.id, name: users.name, email: users.email })
		.from(users)
		.where(eq(users.id, found.study.ownerId));
	return { ok: true, owner: owner!, members: await listMembersOfStudy(db, id) };
}
