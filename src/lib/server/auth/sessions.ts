import { and, eq, gt, inArray, isNull, lt, or } from 'drizzle-orm';
import type { Executor } from '../db';
import { sessions, users, type Role } from '../db/schema';
import { generateSecureRandomString, hashSecret, secretMatchesHash } from './tokens';

export type SessionPolicy = { idleTimeoutMs: number; maxLifetimeMs: number };

export type SessionUser = { id: string; email: string; name: string; role: Role };

export type SessionInfo = {
	id: string;
	createdAt: Date;
	lastSeenAt: Date;
	/** When the session ends: the earlier of the absolute limit and the inactivity limit. */
	expiresAt: Date;
};

export type SessionValidation =
	| { ok: true; session: SessionInfo; user: SessionUser }
	| { ok: false; reason: 'malformed' | 'unknown' | 'expired' | 'disabled' };

/** Activity is written back at most this often, so a busy page does not write on every request. */
const MAX_LAST_SEEN_LAG_MS = 60_000;

function effectiveExpiry(lastSeenAt: Date, expiresAt: Date, policy: SessionPolicy): Date {
	return new Date(Math.min(expiresAt.getTime(), lastSeenAt.getTime() + policy.idleTimeoutMs));
}

/**
 * Starts a new session for a user. The returned token (`id.secret`) goes into the cookie and
 * is never stored; the table keeps a SHA-256 of the secret.
 */
export async function createSession(
	db: Executor,
	userId: string,
	meta: { userAgent: string | null; ipAddress: string | null },
	policy: SessionPolicy,
	now: Date
): Promise<{ token: string; session: SessionInfo }> {
	const id = generateSecureRandomString();
	const secret = generateSecureRandomString();
	const expiresAt = new Date(now.getTime() + policy.maxLifetimeMs);
	await db.insert(sessions).values({
		id,
		secretHash: hashSecret(secret),
		userId,
		createdAt: now,
		lastSeenAt: now,
		expiresAt,
		userAgent: meta.userAgent?.slice(0, 300) ?? null,
		ipAddress: meta.ipAddress
	});
	return {
		token: `${id}.${secret}`,
		session: {
			id,
			createdAt: now,
			lastSeenAt: now,
			expiresAt: effectiveExpiry(now, expiresAt, policy)
		}
	};
}

/**
 * Checks a session token: known id, matching secret (constant time), within both the absolute
 * lifetime and the inactivity timeout, user not disabled. Expired sessions are deleted.
 */
export async function validateSessionToken(
	db: Executor,
	token: string,
	policy: SessionPolicy,
	now: Date
): Promise<SessionValidation> {
	const [id, secret, ...rest] = token.split('.');
	if (!id || !secret || rest.length > 0 || id.length > 64 || secret.length > 64) {
		return { ok: false, reason: 'malformed' };
	}
	const [row] = await db
		.select({ session: sessions, user: users })
		.from(sessions)
		.innerJoin(users, eq(users.id, sessions.userId))
		.where(eq(sessions.id, id))
		.limit(1);
	if (!row || !secretMatchesHash(secret, row.session.secretHash)) {
		return { ok: false, reason: 'unknown' };
	}
	const { session, user } = row;
	const expiresAt = effectiveExpiry(session.lastSeenAt, session.expiresAt, policy);
	if (now >= expiresAt) {
		await db.delete(sessions).where(eq(sessions.id, id));
		return { ok: false, reason: 'expired' };
	}
	if (user.disabledAt) {
		await db.delete(sessions).where(eq(sessions.userId, user.id));
		return { ok: false, reason: 'disabled' };
	}
	let lastSeenAt = session.lastSeenAt;
	const lag = Math.min(MAX_LAST_SEEN_LAG_MS, policy.idleTimeoutMs / 4);
	if (now.getTime() - lastSeenAt.getTime() >= lag) {
		lastSeenAt = now;
		await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, id));
	}
	return {
		ok: true,
		session: {
			id,
			createdAt: session.createdAt,
			lastSeenAt,
			expiresAt: effectiveExpiry(lastSeenAt, session.expiresAt, policy)
		},
		user: { id: user.id, email: user.email, name: user.name, role: user.role }
	};
}

export async function invalidateSession(db: Executor, sessionId: string): Promise<void> {
	await db.delete(sessions).where(eq(sessions.id, sessionId));
}

/** Ends every session of a user ("sign out everywhere", disabling an account). */
export async function invalidateUserSessions(db: Executor, userId: string): Promise<void> {
	await db.delete(sessions).where(eq(sessions.userId, userId));
}

/** Ends one of the user's own sessions; scoped to the user so ids cannot be guessed across. */
export async function invalidateOwnSession(
	db: Executor,
	userId: string,
	sessionId: string
): Promise<void> {
	await db.delete(sessions).where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)));
}

export type SessionListing = SessionInfo & { userAgent: string | null; ipAddress: string | null };

/** The user's live sessions, most recently used first. */
export async function listUserSessions(
	db: Executor,
	userId: string,
	policy: SessionPolicy,
	now: Date
): Promise<SessionListing[]> {
	const idleCutoff = new Date(now.getTime() - policy.idleTimeoutMs);
	const rows = await db
		.select()
		.from(sessions)
		.where(
			and(
				eq(sessions.userId, userId),
				gt(sessions.expiresAt, now),
				gt(sessions.lastSeenAt, idleCutoff)
			)
		);
	return rows
		.map((row) => ({
			id: row.id,
			createdAt: row.createdAt,
			lastSeenAt: row.lastSeenAt,
			expiresAt: effectiveExpiry(row.lastSeenAt, row.expiresAt, policy),
			userAgent: row.userAgent,
			ipAddress: row.ipAddress
		}))
		.sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
}

/** Deletes sessions past either limit; returns how many went. */
export async function deleteExpiredSessions(
	db: Executor,
	policy: SessionPolicy,
	now: Date
): Promise<number> {
	const idleCutoff = new Date(now.getTime() - policy.idleTimeoutMs);
	const removed = await db
		.delete(sessions)
		.where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, idleCutoff)))
		.returning({ id: sessions.id });
	return removed.length;
}

/**
 * Which of these session ids are still valid (exist, within the absolute lifetime, user not
 * disabled). Open sockets are checked against it so a revoked session loses its sockets at
 * once. Inactivity is not checked here: an open socket counts as activity (`touchSessions`).
 */
export async function findLiveSessionIds(
	db: Executor,
	ids: string[],
	now: Date
): Promise<Set<string>> {
	if (ids.length === 0) return new Set();
	const rows = await db
		.select({ id: sessions.id })
		.from(sessions)
		.innerJoin(users, eq(users.id, sessions.userId))
		.where(and(inArray(sessions.id, ids), gt(sessions.expiresAt, now), isNull(users.disabledAt)));
	return new Set(rows.map((row) => row.id));
}

/** Records activity for sessions that hold open sockets. */
export async function touchSessions(db: Executor, ids: string[], now: Date): Promise<void> {
	if (ids.length > 0)
		await db.update(sessions).set({ lastSeenAt: now }).where(inArray(sessions.id, ids));
}
