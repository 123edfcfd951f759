import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import {
	changePassword,
	createFirstAdmin,
	signIn,
	signUp
} from '../../src/lib/server/auth/accounts';
import {
	acceptInvite,
	createInvite,
	findUsableInvite,
	INVITE_TTL_MS,
	listPendingInvites,
	revokeInvite
} from '../../src/lib/server/auth/invites';
import { createLoginThrottle } from '../../src/lib/server/auth/login-throttle';
import {
	createSession,
	validateSessionToken,
	type SessionPolicy
} from '../../src/lib/server/auth/sessions';
import { updateUser } from '../../src/lib/server/auth/users';
import type { Database } from '../../src/lib/server/db/database';
import { sessions, users } from '../../src/lib/server/db/schema';
import { databaseTargets, type TestDatabase } from '../support/databases';

// Opening databases and hashing passwords is slow on a 2-core machine.
setDefaultTimeout(30_000);

const policy: SessionPolicy = { idleTimeoutMs: 30 * 60_000, maxLifetimeMs: 12 * 3_600_000 };
const meta = { userAgent: 'test', ipAddress: '127.0.0.1' };
const admin = { email: 'ada@lab.test', name: 'Ada', password: 'correct horse battery' };

for (const target of databaseTargets('account integration tests')) {
	describe.skipIf(!target.available)(`accounts on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		let adminId: string;

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
		});
		afterAll(() => database?.dispose());

		test('a weak first password is refused and creates nothing', async () => {
			const result = await createFirstAdmin(db, { ...admin, password: 'password1' });
			expect(result).toMatchObject({ ok: false, reason: 'weak_password', field: 'password' });
			expect(await db.select().from(users)).toHaveLength(0);
		});

		test('two simultaneous first-run submissions make exactly one admin', async () => {
			const results = await Promise.all([
				createFirstAdmin(db, admin),
				createFirstAdmin(db, { ...admin, email: 'mallory@lab.test', name: 'Mallory' })
			]);
			expect(results.filter((r) => r.ok)).toHaveLength(1);
			expect(results.filter((r) => !r.ok && r.reason === 'already_set_up')).toHaveLength(1);
			const all = await db.select().from(users);
			expect(all).toHaveLength(1);
			expect(all[0]!.role).toBe('admin');
			adminId = all[0]!.id;
			// Argon2id, never the password itself.
			expect(all[0]!.passwordHash).toStartWith('$argon2id$');
		});

		test('sign-in: unknown email and wrong password give the same answer', async () => {
			const throttle = createLoginThrottle();
			const ok = await signIn(
				db,
				{ email: admin.email, password: admin.password },
				{ address: 'a' },
				throttle,
				0
			);
			expect(ok.ok).toBe(true);
			const wrong = await signIn(
				db,
				{ email: admin.email, password: 'nope nope nope' },
				{ address: 'a' },
				throttle,
				0
			);
			const unknown = await signIn(
				db,
				{ email: 'who@lab.test', password: 'nope nope nope' },
				{ address: 'a' },
				throttle,
				0
			);
			expect(wrong).toEqual({ ok: false, reason: 'invalid_credentials' });
			expect(unknown).toEqual(wrong);
		});

		test('failures from many addresses lock untrusted clients out, never a trusted device', async () => {
			const throttle = createLoginThrottle();
			// The admin's browser signed in before: it holds a device cookie (here: its nonce).
			const device = (userId: string) => (userId === adminId ? 'admins-laptop' : null);
			for (let i = 0; i < 6; i++) {
				await signIn(
					db,
					{ email: admin.email, password: 'wrong wrong' },
					{ address: `10.0.0.${i}` },
					throttle,
					1000
				);
			}
			const untrusted = await signIn(
				db,
				{ email: admin.email, password: admin.password },
				{ address: '10.9.9.9' },
				throttle,
				1001
			);
			expect(untrusted).toMatchObject({ ok: false, reason: 'throttled' });
			const trusted = await signIn(
				db,
				{ email: admin.email, password: admin.password },
				{ address: '10.9.9.9', trustedDeviceFor: device },
				throttle,
				1001
			);
			expect(trusted).toMatchObject({ ok: true, user: { id: adminId } });
			// A device cookie of this account is no key to another account.
			const other = await signIn(
				db,
				{ email: 'who@lab.test', password: 'nope nope nope' },
				{ address: '10.9.9.8', trustedDeviceFor: device },
				throttle,
				1001
			);
			expect(other).toEqual({ ok: false, reason: 'invalid_credentials' });
		});

		test('sessions: only a hash is stored; idle and absolute limits end them', async () => {
			const t0 = new Date('2026-01-01T10:00:00Z');
			const { token } = await createSession(db, adminId, meta, policy, t0);
			const [id, secret] = token.split('.');
			const [row] = await db.select().from(sessions).where(eq(sessions.id, id!));
			expect(row!.secretHash).not.toContain(secret!);

			const later = new Date(t0.getTime() + 20 * 60_000);
			const fresh = await validateSessionToken(db, token, policy, later);
			expect(fresh).toMatchObject({ ok: true, user: { email: admin.email, role: 'admin' } });
			// Activity moved the inactivity deadline.
			expect(fresh.ok && fresh.session.expiresAt.getTime()).toBe(
				later.getTime() + policy.idleTimeoutMs
			);

			expect(await validateSessionToken(db, `${id}.wrongsecret`, policy, later)).toEqual({
				ok: false,
				reason: 'unknown'
			});
			expect(await validateSessionToken(db, 'garbage', policy, later)).toEqual({
				ok: false,
				reason: 'malformed'
			});

			const idle = new Date(later.getTime() + policy.idleTimeoutMs + 1);
			expect(await validateSessionToken(db, token, policy, idle)).toEqual({
				ok: false,
				reason: 'expired'
			});
			expect(await db.select().from(sessions).where(eq(sessions.id, id!))).toHaveLength(0);

			// Kept active, a session still ends at its absolute lifetime.
			const long = await createSession(db, adminId, meta, policy, t0);
			let now = t0.getTime();
			while (now < t0.getTime() + policy.maxLifetimeMs - policy.idleTimeoutMs) {
				now += policy.idleTimeoutMs / 2;
				expect((await validateSessionToken(db, long.token, policy, new Date(now))).ok).toBe(true);
			}
			const end = new Date(t0.getTime() + policy.maxLifetimeMs);
			expect(await validateSessionToken(db, long.token, policy, end)).toEqual({
				ok: false,
				reason: 'expired'
			});
		});

		let colleagueId = '';
		let colleagueEmail = '';

		test('an invite creates an account with its role, once', async () => {
			const now = new Date();
			const { token } = await createInvite(db, adminId, { role: 'viewer' }, now);
			expect(await listPendingInvites(db, now)).toHaveLength(1);
			const input = { email: 'grace@lab.test', name: 'Grace', password: 'a long enough phrase' };
			const [first, second] = await Promise.all([
				acceptInvite(db, token, input, now),
				acceptInvite(db, token, { ...input, email: 'eve@lab.test' }, now)
			]);
			const accepted = [first, second].filter((r) => r.ok);
			expect(accepted).toHaveLength(1);
			const user = accepted[0]!.ok ? accepted[0]!.user : undefined;
			expect(user?.role).toBe('viewer');
			expect(user?.invitedBy).toBe(adminId);
			colleagueId = user!.id;
			// Either submission may win the race; the other must see the invite as used.
			colleagueEmail = user!.email;
			const loser = [first, second].find((r) => !r.ok);
			expect(loser).toMatchObject({ ok: false, reason: 'used' });
			expect(await findUsableInvite(db, token, now)).toMatchObject({ ok: false, reason: 'used' });
			expect(await listPendingInvites(db, now)).toHaveLength(0);
		});

		test('expired, revoked, unknown and addressed invites are refused clearly', async () => {
			const now = new Date();
			const input = { email: 'heidi@lab.test', name: 'Heidi', password: 'a long enough phrase' };
			const expired = await createInvite(
				db,
				adminId,
				{ role: 'researcher' },
				new Date(now.getTime() - INVITE_TTL_MS - 1)
			);
			expect(await acceptInvite(db, expired.token, input, now)).toMatchObject({
				ok: false,
				reason: 'expired'
			});
			const revoked = await createInvite(db, adminId, { role: 'researcher' }, now);
			expect(await revokeInvite(db, revoked.invite.id, now)).toBe(true);
			expect(await acceptInvite(db, revoked.token, input, now)).toMatchObject({
				ok: false,
				reason: 'revoked'
			});
			expect(await acceptInvite(db, 'not-a-token', input, now)).toMatchObject({
				ok: false,
				reason: 'invalid'
			});
			const addressed = await createInvite(
				db,
				adminId,
				{ role: 'researcher', email: 'ivan@lab.test' },
				now
			);
			expect(await acceptInvite(db, addressed.token, input, now)).toMatchObject({
				ok: false,
				reason: 'email_mismatch'
			});
			const taken = await acceptInvite(
				db,
				addressed.token,
				{ ...input, email: 'ivan@lab.test', password: 'password' },
				now
			);
			expect(taken).toMatchObject({ ok: false, reason: 'weak_password' });
			// Refusals changed nothing: the addressed invite is still usable.
			expect((await findUsableInvite(db, addressed.token, now)).ok).toBe(true);
			expect(await db.select().from(users).where(eq(users.email, 'heidi@lab.test'))).toHaveLength(
				0
			);
		});

		test('an existing email cannot sign up twice', async () => {
			const result = await signUp(db, {
				email: admin.email,
				name: 'Copy',
				password: 'another long phrase'
			});
			expect(result).toMatchObject({ ok: false, reason: 'email_taken' });
		});

		test('disabling a user ends their sessions and blocks sign-in', async () => {
			const now = new Date();
			const { token } = await createSession(db, colleagueId, meta, policy, now);
			const result = await updateUser(db, adminId, colleagueId, { disabled: true }, now);
			expect(result).toMatchObject({ ok: true, user: { disabledAt: expect.any(Date) } });
			expect((await validateSessionToken(db, token, policy, now)).ok).toBe(false);
			expect(await db.select().from(sessions).where(eq(sessions.userId, colleagueId))).toHaveLength(
				0
			);
			const signInResult = await signIn(
				db,
				{ email: colleagueEmail, password: 'a long enough phrase' },
				{ address: 'x' },
				createLoginThrottle(),
				0
			);
			expect(signInResult).toEqual({ ok: false, reason: 'disabled' });
			expect((await updateUser(db, adminId, colleagueId, { disabled: false }, now)).ok).toBe(true);
		});

		test('the last admin cannot be demoted or disabled, and nobody edits themselves', async () => {
			const now = new Date();
			expect(await updateUser(db, adminId, adminId, { role: 'viewer' }, now)).toMatchObject({
				reason: 'self'
			});
			expect(await updateUser(db, colleagueId, adminId, { disabled: true }, now)).toMatchObject({
				ok: false,
				reason: 'last_admin'
			});
			expect(await updateUser(db, adminId, 'missing', { role: 'viewer' }, now)).toMatchObject({
				reason: 'not_found'
			});
			// With a second admin, the first may be demoted.
			expect((await updateUser(db, adminId, colleagueId, { role: 'admin' }, now)).ok).toBe(true);
			expect((await updateUser(db, colleagueId, adminId, { role: 'researcher' }, now)).ok).toBe(
				true
			);
			expect((await updateUser(db, adminId, adminId, { role: 'admin' }, now)).ok).toBe(false);
			expect((await updateUser(db, colleagueId, adminId, { role: 'admin' }, now)).ok).toBe(true);
		});

		test('changing a password keeps this session and ends the others', async () => {
			const now = new Date();
			const mine = await createSession(db, adminId, meta, policy, now);
			const other = await createSession(db, adminId, meta, policy, now);
			const wrong = await changePassword(
				db,
				adminId,
				mine.session.id,
				'not it at all',
				'new phrase here'
			);
			expect(wrong).toMatchObject({ ok: false, field: 'current' });
			const ok = await changePassword(
				db,
				adminId,
				mine.session.id,
				admin.password,
				'a brand new phrase'
			);
			expect(ok).toEqual({ ok: true });
			expect((await validateSessionToken(db, mine.token, policy, now)).ok).toBe(true);
			expect((await validateSessionToken(db, other.token, policy, now)).ok).toBe(false);
			const signInResult = await signIn(
				db,
				{ email: admin.email, password: 'a brand new phrase' },
				{ address: 'y' },
				createLoginThrottle(),
				0
			);
			expect(signInResult.ok).toBe(true);
		});
	});
}
