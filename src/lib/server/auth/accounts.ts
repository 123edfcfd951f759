import { and, count, eq, ne, sql } from 'drizzle-orm';
import { LimiterBusyError } from '../concurrency';
import type { Database, Executor } from '../db';
import { sessions, users, type Role, type User } from '../db/schema';
import type { LoginAttempt, LoginThrottle } from './login-throttle';
import { checkPasswordPolicy } from './password-policy';
import { hashPassword, verifyAgainstDummyHash, verifyPassword } from './passwords';
import type { NewAccountInput, SignInInput } from './schemas';
import { generateSecureRandomString } from './tokens';

export type AccountProblem =
	| { ok: false; reason: 'weak_password'; field: 'password'; message: string }
	| { ok: false; reason: 'email_taken'; field: 'email'; message: string };

export type CreateAccountResult = { ok: true; user: User } | AccountProblem;

const EMAIL_TAKEN = {
	ok: false,
	reason: 'email_taken',
	field: 'email',
	message: 'An account with this email address already exists.'
} as const;

/** True once any account exists; first-run setup is offered only before that. */
export async function hasAnyUser(db: Executor): Promise<boolean> {
	const [row] = await db.select({ n: count() }).from(users);
	return (row?.n ?? 0) > 0;
}

/**
 * Inserts an account after checking the password policy. Runs inside the caller's
 * transaction when other rows depend on it (invites).
 */
export async function insertAccount(
	tx: Executor,
	input: NewAccountInput,
	role: Role,
	invitedBy: string | null
): Promise<CreateAccountResult> {
	const policy = checkPasswordPolicy(input.password);
	if (!policy.ok)
		return { ok: false, reason: 'weak_password', field: 'password', message: policy.message };
	const [existing] = await tx
		.select({ id: users.id })
		.from(users)
		.where(eq(users.email, input.email));
	if (existing) return EMAIL_TAKEN;
	const [user] = await tx
		.insert(users)
		.values({
			id: generateSecureRandomString(),
			email: input.email,
			name: input.name,
			passwordHash: await hashPassword(input.password),
			role,
			invitedBy
		})
		.onConflictDoNothing({ target: users.email })
		.returning();
	return user ? { ok: true, user } : EMAIL_TAKEN;
}

export type FirstAdminResult = CreateAccountResult | { ok: false; reason: 'already_set_up' };

/**
 * Creates the first account, as admin. The table lock makes two simultaneous first-run
 * submissions produce exactly one admin.
 */
export async function createFirstAdmin(
	db: Database,
	input: NewAccountInput
): Promise<FirstAdminResult> {
	// Check the policy before taking the lock: hashing can wait behind the limiter.
	const policy = checkPasswordPolicy(input.password);
	if (!policy.ok)
		return { ok: false, reason: 'weak_password', field: 'password', message: policy.message };
	return db.transaction(async (tx) => {
		await tx.execute(sql`lock table ${users} in exclusive mode`);
		if (await hasAnyUser(tx)) return { ok: false, reason: 'already_set_up' } as const;
		return insertAccount(tx, input, 'admin', null);
	});
}

/** Self-service sign-up (only when ALLOW_SIGNUP is on): a researcher account. */
export function signUp(db: Database, input: NewAccountInput): Promise<CreateAccountResult> {
	return db.transaction((tx) => insertAccount(tx, input, 'researcher', null));
}

export type SignInResult =
	| { ok: true; user: User }
	| { ok: false; reason: 'invalid_credentials' }
	| { ok: false; reason: 'disabled' }
	| { ok: false; reason: 'throttled'; retryAfterMs: number }
	| { ok: false; reason: 'busy' };

/** Who is signing in, as far as the throttle needs to know. */
export type SignInClient = {
	/** The client's address. */
	address: string;
	/**
	 * The nonce of a valid device cookie this client holds for the account `userId` (it signed
	 * in to it before), or null; absent: no device cookies at all (scripts, tests).
	 */
	trustedDeviceFor?: (userId: string) => string | null;
};

/**
 * Checks an email and password. Unknown email and wrong password give the same answer after
 * the same work. Attempts are throttled before the password is checked: a device that signed
 * in to the account before only by its own failures, any other client per address, per
 * account and address, and per account (see login-throttle.ts).
 */
export async function signIn(
	db: Executor,
	input: SignInInput,
	client: SignInClient,
	throttle: LoginThrottle,
	now: number
): Promise<SignInResult> {
	const [user] = await db.select().from(users).where(eq(users.email, input.email)).limit(1);
	const attempt: LoginAttempt = {
		address: client.address,
		account: input.email,
		device: user ? (client.trustedDeviceFor?.(user.id) ?? null) : null
	};
	const decision = throttle.check(attempt, now);
	if (!decision.ok) return { ok: false, reason: 'throttled', retryAfterMs: decision.retryAfterMs };
	let valid: boolean;
	try {
		valid = user
			? await verifyPassword(input.password, user.passwordHash)
			: await verifyAgainstDummyHash(input.password);
	} catch (error) {
		if (error instanceof LimiterBusyError) return { ok: false, reason: 'busy' };
		throw error;
	}
	if (!user || !valid) {
		throttle.recordFailure(attempt, now);
		return { ok: false, reason: 'invalid_credentials' };
	}
	throttle.recordSuccess(attempt);
	// Only someone who knows the password learns that the account is disabled.
	if (user.disabledAt) return { ok: false, reason: 'disabled' };
	return { ok: true, user };
}

export type ChangePasswordResult =
	{ ok: true } | { ok: false; field: 'current' | 'password'; message: string };

/** Changes a password after checking the current one; other sessions of the user end. */
export async function changePassword(
	db: Executor,
	userId: string,
	keepSessionId: string,
	current: string,
	next: string
): Promise<ChangePasswordResult> {
	const [user] = await db.select().from(users).where(eq(users.id, userId)).limit(1);
	if (!user || !(await verifyPassword(current, user.passwordHash))) {
		return { ok: false, field: 'current', message: 'Your current password is not correct.' };
	}
	const policy = checkPasswordPolicy(next);
	if (!policy.ok) return { ok: false, field: 'password', message: policy.message };
	await db
		.update(users)
		.set({ passwordHash: await hashPassword(next) })
		.where(eq(users.id, userId));
	await db.delete(sessions).where(and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId)));
	return { ok: true };
}
