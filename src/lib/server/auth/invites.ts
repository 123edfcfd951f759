import { and, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Database, Executor } from '../db';
import { invites, users, type Invite, type Role } from '../db/schema';
import { insertAccount, type CreateAccountResult } from './accounts';
import type { InviteInput, NewAccountInput } from './schemas';
import { generateSecureRandomString, hashSecret } from './tokens';

/** An invite link stays valid for a week. */
export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export type CreatedInvite = { invite: Invite; token: string };

/** Creates an invite; the token goes into the link and is never stored. */
export async function createInvite(
	db: Executor,
	createdBy: string,
	input: InviteInput,
	now: Date
): Promise<CreatedInvite> {
	const token = generateSecureRandomString();
	const [invite] = await db
		.insert(invites)
		.values({
			id: generateSecureRandomString(),
			tokenHash: hashSecret(token),
			role: input.role,
			email: input.email || null,
			createdBy,
			createdAt: now,
			expiresAt: new Date(now.getTime() + INVITE_TTL_MS)
		})
		.returning();
	return { invite: invite!, token };
}

export type PendingInvite = {
	id: string;
	role: Role;
	email: string | null;
	createdAt: Date;
	expiresAt: Date;
	createdByName: string;
};

/** Invites not yet accepted, revoked or expired, newest first. */
export async function listPendingInvites(db: Executor, now: Date): Promise<PendingInvite[]> {
	return db
		.select({
			id: invites.id,
			role: invites.role,
			email: invites.email,
			createdAt: invites.createdAt,
			expiresAt: invites.expiresAt,
			createdByName: users.name
		})
		.from(invites)
		.innerJoin(users, eq(users.id, invites.createdBy))
		.where(and(isNull(invites.acceptedAt), isNull(invites.revokedAt), gt(invites.expiresAt, now)))
		.orderBy(desc(invites.createdAt));
}

/** Revokes a pending invite; false when there was nothing pending with that id. */
export async function revokeInvite(db: Executor, inviteId: string, now: Date): Promise<boolean> {
	const revoked = await db
		.update(invites)
		.set({ revokedAt: now })
		.where(and(eq(invites.id, inviteId), isNull(invites.acceptedAt), isNull(invites.revokedAt)))
		.returning({ id: invites.id });
	return revoked.length > 0;
}

export type InviteLookup =
	| { ok: true; invite: Invite }
	| { ok: false; reason: 'invalid' | 'expired' | 'used' | 'revoked'; message: string };

const INVITE_PROBLEMS = {
	invalid: 'This invite link is not valid. Ask your administrator for a new one.',
	expired: 'This invite link has expired. Ask your administrator for a new one.',
	used: 'This invite link has already been used. Sign in instead.',
	revoked: 'This invite link was withdrawn. Ask your administrator for a new one.'
} as const;

function problem(reason: keyof typeof INVITE_PROBLEMS): InviteLookup {
	return { ok: false, reason, message: INVITE_PROBLEMS[reason] };
}

/** Finds the invite a link token belongs to and says whether it can still be used. */
export async function findUsableInvite(
	db: Executor,
	token: string,
	now: Date
): Promise<InviteLookup> {
	if (token.length > 64) return problem('invalid');
	const [invite] = await db
		.select()
		.from(invites)
		.where(eq(invites.tokenHash, hashSecret(token)))
		.limit(1);
	if (!invite) return problem('invalid');
	if (invite.acceptedAt) return problem('used');
	if (invite.revokedAt) return problem('revoked');
	if (invite.expiresAt <= now) return problem('expired');
	return { ok: true, invite };
}

export type AcceptInviteResult =
	| CreateAccountResult
	| Extract<InviteLookup, { ok: false }>
	| { ok: false; reason: 'email_mismatch'; field: 'email'; message: string };

/**
 * Creates the account an invite allows and marks the invite used, in one transaction; the
 * row lock on the invite makes a link usable exactly once even when submitted twice.
 */
export async function acceptInvite(
	db: Database,
	token: string,
	input: NewAccountInput,
	now: Date
): Promise<AcceptInviteResult> {
	return db.transaction(async (tx): Promise<AcceptInviteResult> => {
		const lookup = await findUsableInvite(tx, token, now);
		if (!lookup.ok) return lookup;
		const [locked] = await tx
			.select()
			.from(invites)
			.where(and(eq(invites.id, lookup.invite.id), isNull(invites.acceptedAt)))
			.for('update');
		if (!locked) return problem('used') as Extract<InviteLookup, { ok: false }>;
		if (locked.email && locked.email !== input.email) {
			return {
				ok: false,
				reason: 'email_mismatch',
				field: 'email',
				message: `This invite is for ${locked.email}.`
			};
		}
		const created = await insertAccount(tx, input, locked.role, locked.createdBy);
		if (!created.ok) return created;
		await tx
			.update(invites)
			.set({ acceptedAt: now, acceptedBy: created.user.id })
			.where(eq(invites.id, locked.id));
		return created;
	});
}

/** The link an invitee opens. */
export function inviteUrl(origin: string, token: string): string {
	return `${origin}/invite/${token}`;
}
