import { and, asc, eq } from 'drizzle-orm';
import type { SessionUser } from '../auth/sessions';
import type { Database, Executor } from '../db';
import { studyMembers, users, type StudyPermission } from '../db/schema';
import { canManageStudy, loadStudyForUser } from './access';
import { recordStudyChange } from './changes';
import type { StudyMemberListing } from './types';

export type ShareResult =
	{ ok: true } | { ok: false; reason: 'not_found' | 'forbidden' | 'unknown_user' | 'owner' };

/**
 * Shares a study with the colleague who has `email`, or changes their permission. Owners and
 * admins only. The owner cannot be added (they already have full access).
 */
export async function shareStudy(
	db: Database,
	user: SessionUser,
	id: string,
	input: { email: string; permission: StudyPermission }
): Promise<ShareResult> {
	const now = new Date();
	return db.transaction(async (tx): Promise<ShareResult> => {
		const found = await loadStudyForUser(tx, user, id, { lock: true });
		if (!found) return { ok: false, reason: 'not_found' };
		if (!canManageStudy(found.access)) return { ok: false, reason: 'forbidden' };
		const email = input.email.trim().toLowerCase();
		const [member] = await tx
			.select({ id: users.id })
			.from(users)
			.where(eq(users.email, email))
			.limit(1);
		if (!member) return { ok: false, reason: 'unknown_user' };
		if (member.id === found.study.ownerId) return { ok: false, reason: 'owner' };
		await tx
			.insert(studyMembers)
			.values({
				studyId: id,
				userId: member.id,
				permission: input.permission,
				grantedBy: user.id,
				grantedAt: now
			})
			.onConflictDoUpdate({
				target: [studyMembers.studyId, studyMembers.userId],
				set: { permission: input.permission, grantedBy: user.id, grantedAt: now }
			});
		await recordStudyChange(
			tx,
			id,
			user.id,
			'shared',
			{ userId: member.id, email, permission: input.permission },
			now
		);
		return { ok: true };
	});
}

/** Takes a colleague off a study. Owners and admins only; removing a non-member is a no-op. */
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
			.returning({ userId: studyMembers.userId });
		if (removed.length > 0) {
			await recordStudyChange(tx, id, user.id, 'unshared', { userId }, now);
		}
		return { ok: true } as const;
	});
}

/** The colleagues a study is shared with, by name. */
export async function listMembersOfStudy(
	db: Executor,
	studyId: string
): Promise<StudyMemberListing[]> {
	return db
		.select({
			userId: studyMembers.userId,
			name: users.name,
			email: users.email,
			permission: studyMembers.permission
		})
		.from(studyMembers)
		.innerJoin(users, eq(users.id, studyMembers.userId))
		.where(eq(studyMembers.studyId, studyId))
		.orderBy(asc(users.name));
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
