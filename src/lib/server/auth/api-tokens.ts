import { and, desc, eq, isNull } from 'drizzle-orm';
import * as v from 'valibot';
import type { Executor } from '../db';
import { apiTokens, users } from '../db/schema';
import type { SessionUser } from './sessions';
import { generateSecureRandomString, hashSecret, secretMatchesHash } from './tokens';

/**
 * Personal API tokens for scripts: `ens_<id>_<secret>`. The id finds the row, the secret is
 * checked against its stored SHA-256 in constant time, as for sessions.
 */

export const API_TOKEN_PREFIX = 'ens_';

/** Length of the public id part; 16 characters of the token alphabet are 80 bits. */
const TOKEN_ID_LENGTH = 16;

/** `last_used_at` is written at most this often, so a busy script does not write per request. */
const LAST_USED_LAG_MS = 60_000;

/** The name a person gives a token ("CI", "analysis notebook"). */
export const ApiTokenName = v.pipe(
	v.string('Name the token.'),
	v.trim(),
	v.nonEmpty('Name the token.'),
	v.maxLength(100, 'Use at most 100 characters.')
);

export const NewApiTokenInput = v.object({ name: ApiTokenName });
export type NewApiTokenInput = v.InferOutput<typeof NewApiTokenInput>;

/** What the owner sees of a token; never the secret or its hash. */
export type ApiTokenListing = {
	id: string;
	name: string;
	createdAt: Date;
	lastUsedAt: Date | null;
};

export type ApiTokenValidation = { ok: true; user: SessionUser; tokenId: string } | { ok: false };

/**
 * Creates a token for `userId`. The full token is returned once and never stored; the table
 * keeps only a SHA-256 of the secret.
 */
export async function createApiToken(
	db: Executor,
	userId: string,
	name: string,
	now: Date
): Promise<{ token: string; record: ApiTokenListing }> {
	const id = generateSecureRandomString().slice(0, TOKEN_ID_LENGTH);
	const secret = generateSecureRandomString();
	await db.insert(apiTokens).values({
		id,
		userId,
		name,
		secretHash: hashSecret(secret),
		createdAt: now
	});
	return {
		token: `${API_TOKEN_PREFIX}${id}_${secret}`,
		record: { id, name, createdAt: now, lastUsedAt: null }
	};
}

/** The user's tokens that are not revoked, newest first. */
export async function listApiTokens(db: Executor, userId: string): Promise<ApiTokenListing[]> {
	return db
		.select({
			id: apiTokens.id,
			name: apiTokens.name,
			createdAt: apiTokens.createdAt,
			lastUsedAt: apiTokens.lastUsedAt
		})
		.from(apiTokens)
		.where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
		.orderBy(desc(apiTokens.createdAt));
}

/**
 * Revokes one of the user's own tokens; scoped to the user so ids cannot be guessed across.
 * `not_found` when there was no live token with that id.
 */
export async function revokeApiToken(
	db: Executor,
	userId: string,
	id: string,
	now: Date
): Promise<{ ok: true } | { ok: false; reason: 'not_found' }> {
	const revoked = await db
		.update(apiTokens)
		.set({ revokedAt: now })
		.where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
		.returning({ id: apiTokens.id });
	return revoked.length > 0 ? { ok: true } : { ok: false, reason: 'not_found' };
}

/** Splits `ens_<id>_<secret>`; null when the text cannot be a token. */
export function parseApiToken(token: string): { id: string; secret: string } | null {
	if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 128) return null;
	const [id, secret, ...rest] = token.slice(API_TOKEN_PREFIX.length).split('_');
	if (!id || !secret || rest.length > 0 || id.length !== TOKEN_ID_LENGTH) return null;
	return { id, secret };
}

/**
 * Checks a presented token: known id, matching secret (constant time), not revoked, user not
 * disabled. Records use at most once a minute.
 */
export async function validateApiToken(
	db: Executor,
	token: string,
	now: Date
): Promise<ApiTokenValidation> {
	const parsed = parseApiToken(token);
	if (!parsed) return { ok: false };
	const [row] = await db
		.select({ token: apiTokens, user: users })
		.from(apiTokens)
		.innerJoin(users, eq(users.id, apiTokens.userId))
		.where(eq(apiTokens.id, parsed.id))
		.limit(1);
	if (!row || !secretMatchesHash(parsed.secret, row.token.secretHash)) return { ok: false };
	if (row.token.revokedAt || row.user.disabledAt) return { ok: false };
	const lastUsed = row.token.lastUsedAt;
	if (!lastUsed || now.getTime() - lastUsed.getTime() >= LAST_USED_LAG_MS) {
		await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, parsed.id));
	}
	const { id, email, name, role } = row.user;
	return { ok: true, user: { id, email, name, role }, tokenId: parsed.id };
}
