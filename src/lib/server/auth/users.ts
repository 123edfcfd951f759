import { and, asc, count, eq, isNull, ne } from 'drizzle-orm';
import type { Database, Executor } from '../db';
import { users, type Role } from '../db/schema';
import type { UserUpdateInput } from './schemas';
import { invalidateUserSessions } from './sessions';

export type UserListing = {
	id: string;
	email: string;
	name: string;
	role: Role;
	createdAt: Date;
	disabledAt: Date | null;
};

export async function listUsers(db: Executor): Promise<UserListing[]> {
	return db
		.select({
			id: users.id,
			email: users.email,
			name: users.name,
			role: users.role,
			createdAt: users.createdAt,
			disabledAt: users.disabledAt
		})
		.from(users)
		.orderBy(asc(users.createdAt));
}

export type UpdateUserResult =
	| { ok: true; user: UserListing }
	| { ok: false; reason: 'not_found' | 'self' | 'last_admin'; message: string };

/**
 * Changes a user's role and/or disables them (an admin action). Disabling ends all their
 * sessions. Admins cannot change themselves, and the last active admin cannot be demoted or
 * disabled, so the instance never locks itself out.
 */
export async function updateUser(
	db: Database,
	actorId: string,
	targetId: string,
	input: UserUpdateInput,
	now: Date
): Promise<UpdateUserResult> {
	if (actorId === targetId) {
		return { ok: false, reason: 'self', message: 'You cannot change your own role or status.' };
	}
	return db.transaction(async (tx): Promise<UpdateUserResult> => {
		const [target] = await tx.select().from(users).where(eq(users.id, targetId)).for('update');
		if (!target) return { ok: false, reason: 'not_found', message: 'No such user.' };
		const losesAdmin =
			target.role === 'admin' &&
			!target.disabledAt &&
			((input.role !== undefined && input.role !== 'admin') || input.disabled === true);
		if (losesAdmin) {
			const [others] = await tx
				.select({ n: count() })
				.from(users)
				.where(and(eq(users.role, 'admin'), isNull(users.disabledAt), ne(users.id, targetId)));
			if ((others?.n ?? 0) === 0) {
				return {
					ok: false,
					reason: 'last_admin',
					message: 'This is the last active admin; make someone else admin first.'
				};
			}
		}
		const changes: { role?: Role; disabledAt?: Date | null } = {};
		if (input.role !== undefined) changes.role = input.role;
		if (input.disabled !== undefined) {
			changes.disabledAt = input.disabled ? (target.disabledAt ?? now) : null;
		}
		const [updated] = await tx.update(users).set(changes).where(eq(users.id, targetId)).returning();
		if (input.disabled) await invalidateUserSessions(tx, targetId);
		const { id, email, name, role, createdAt, disabledAt } = updated!;
		return { ok: true, user: { id, email, name, role, createdAt, disabledAt } };
	});
}
