import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../src/lib/server/db/database';
import {
	participantExternalIds,
	participants,
	studies,
	studyVersions,
	users,
	type StudyStatus
} from '../../src/lib/server/db/schema';
import {
	enterStudy,
	findParticipantByToken,
	participantCookieName,
	participantCookieOptions,
	viewStudyEntry
} from '../../src/lib/server/participants';
import { hashSecret } from '../../src/lib/server/auth/tokens';
import { createBlankStudy } from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';

// Who a participant is on a study link: created once on the page's POST, resumed by token.
setDefaultTimeout(60_000);

let serial = 0;
async function seedStudy(
	db: Database,
	options: { prolific?: boolean; status?: StudyStatus } = {}
): Promise<{ studyId: string; slug: string }> {
	serial += 1;
	const tag = `${serial}${Math.random().toString(36).slice(2, 8)}`;
	const definition = createBlankStudy('Identity test');
	definition.settings.prolific = options.prolific ?? false;
	const at = new Date();
	await db.insert(users).values({
		id: `u-${tag}`,
		email: `${tag}@participants.test`,
		name: 'Owner',
		passwordHash: 'not-used',
		role: 'researcher'
	});
	await db.insert(studies).values({
		id: `s-${tag}`,
		slug: `slug${tag}`,
		ownerId: `u-${tag}`,
		title: 'Identity test',
		status: options.status ?? 'live',
		draft: definition,
		latestVersion: 1,
		createdAt: at,
		updatedAt: at
	});
	await db.insert(studyVersions).values({
		studyId: `s-${tag}`,
		version: 1,
		definition,
		contentHash: 'test',
		publishedAt: at
	});
	return { studyId: `s-${tag}`, slug: `slug${tag}` };
}

async function countParticipants(db: Database, studyId: string): Promise<number> {
	const [row] = await db
		.select({ n: sql<number>`count(*)::int` })
		.from(participants)
		.where(eq(participants.studyId, studyId));
	return Number(row!.n);
}

for (const target of databaseTargets('participants')) {
	describe.skipIf(!target.available)(`participant identity (${target.name})`, () => {
		let testDb: TestDatabase;
		let db: Database;
		beforeAll(async () => {
			testDb = await target.create();
			db = testDb.handle.db;
		});
		afterAll(async () => {
			await testDb?.dispose();
		});

		test('the first POST creates a participant; its token resumes the same one', async () => {
			const { studyId, slug } = await seedStudy(db);
			const first = await enterStudy(db, { slug, now: new Date() });
			if (!first.ok) throw new Error(first.reason);
			expect(first.created).toBe(true);
			expect(first.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
			expect(first.participant.status).toBe('consenting');
			expect(first.participant.tokenHash).toBe(hashSecret(first.token));
			expect(JSON.stringify(first.participant)).not.toContain(first.token);

			for (let i = 0; i < 3; i++) {
				const again = await enterStudy(db, { slug, existingToken: first.token, now: new Date() });
				expect(again).toMatchObject({ ok: true, created: false, token: first.token });
				if (again.ok) expect(again.participant.id).toBe(first.participant.id);
			}
			// A resume link (another device, no cookie) finds the same participant too.
			const moved = await enterStudy(db, {
				slug,
				params: new URLSearchParams({ resume: first.token }),
				now: new Date()
			});
			expect(moved).toMatchObject({ ok: true, created: false });
			if (moved.ok) expect(moved.participant.id).toBe(first.participant.id);
			expect(await countParticipants(db, studyId)).toBe(1);
			expect((await findParticipantByToken(db, studyId, first.token))?.id).toBe(
				first.participant.id
			);
			expect(await findParticipantByToken(db, studyId, 'not a token')).toBeNull();
		});

		test("another study's token does not resume; it creates a new participant", async () => {
			const one = await seedStudy(db);
			const two = await seedStudy(db);
			const inOne = await enterStudy(db, { slug: one.slug, now: new Date() });
			if (!inOne.ok) throw new Error(inOne.reason);
			const inTwo = await enterStudy(db, {
				slug: two.slug,
				existingToken: inOne.token,
				now: new Date()
			});
			expect(inTwo).toMatchObject({ ok: true, created: true });
			if (inTwo.ok) expect(inTwo.participant.id).not.toBe(inOne.participant.id);
			expect(await findParticipantByToken(db, two.studyId, inOne.token)).toBeNull();
		});

		test('Prolific ids are captured apart from the data only when the study asks', async () => {
			const params = {
				PROLIFIC_PID: 'pid-123',
				STUDY_ID: 'study-9',
				SESSION_ID: 'sess-4',
				utm_source: 'mail',
				resume: 'xxxxxxxxxxxxxxxxxxxxxx'
			};
			const on = await seedStudy(db, { prolific: true });
			const captured = await enterStudy(db, { slug: on.slug, params, now: new Date() });
			if (!captured.ok) throw new Error(captured.reason);
			expect(captured.participant.linkParams).toEqual({ utm_source: 'mail' });
			const ids = await db
				.select()
				.from(participantExternalIds)
				.where(eq(participantExternalIds.participantId, captured.participant.id));
			expect(Object.fromEntries(ids.map((row) => [row.name, row.value]))).toEqual({
				PROLIFIC_PID: 'pid-123',
				STUDY_ID: 'study-9',
				SESSION_ID: 'sess-4'
			});
			expect(ids.every((row) => row.source === 'prolific')).toBe(true);

			const off = await seedStudy(db, { prolific: false });
			const plain = await enterStudy(db, { slug: off.slug, params, now: new Date() });
			if (!plain.ok) throw new Error(plain.reason);
			expect(plain.participant.linkParams).toEqual({
				PROLIFIC_PID: 'pid-123',
				STUDY_ID: 'study-9',
				SESSION_ID: 'sess-4',
				utm_source: 'mail'
			});
			const none = await db
				.select()
				.from(participantExternalIds)
				.where(eq(participantExternalIds.participantId, plain.participant.id));
			expect(none).toHaveLength(0);
		});

		test('a Prolific id enters once: another browser with it is refused, even at the same moment', async () => {
			const on = await seedStudy(db, { prolific: true });
			const params = { PROLIFIC_PID: 'pid-twice', STUDY_ID: 's', SESSION_ID: 'a' };
			// Open the pool's connections first, so the eight really run side by side.
			await Promise.all(Array.from({ length: 8 }, () => db.execute(sql`select pg_sleep(0.05)`)));
			// Eight devices starting at the same moment: exactly one gets in.
			const attempts = await Promise.all(
				Array.from({ length: 8 }, (_, i) =>
					enterStudy(db, {
						slug: on.slug,
						params: { ...params, SESSION_ID: `s${i}` },
						now: new Date()
					})
				)
			);
			const results = attempts.map((r) => (r.ok ? 'created' : r.reason));
			expect(results.filter((r) => r === 'created')).toHaveLength(1);
			expect(results.filter((r) => r === 'already_started')).toHaveLength(7);
			const inside = attempts.find((r) => r.ok);
			// The browser that got in resumes with its cookie, Prolific id and all.
			expect(
				await enterStudy(db, {
					slug: on.slug,
					params,
					existingToken: inside?.ok ? inside.token : '',
					now: new Date()
				})
			).toMatchObject({
				ok: true,
				created: false,
				participant: { id: inside?.ok ? inside.participant.id : '' }
			});
			// Another Prolific id, and the same id in another study, are new people.
			expect(
				await enterStudy(db, {
					slug: on.slug,
					params: { PROLIFIC_PID: 'pid-other' },
					now: new Date()
				})
			).toMatchObject({ ok: true, created: true });
			const elsewhere = await seedStudy(db, { prolific: true });
			expect(await enterStudy(db, { slug: elsewhere.slug, params, now: new Date() })).toMatchObject(
				{
					ok: true,
					created: true
				}
			);
			const rows = await db
				.select()
				.from(participantExternalIds)
				.where(eq(participantExternalIds.value, 'pid-twice'));
			expect(rows).toHaveLength(2);
		});

		test('paused and closed studies take nobody new but resume who is in', async () => {
			const paused = await seedStudy(db);
			const inside = await enterStudy(db, { slug: paused.slug, isBot: true, now: new Date() });
			if (!inside.ok) throw new Error(inside.reason);
			expect(inside.participant.isBot).toBe(true);
			await db.update(studies).set({ status: 'paused' }).where(eq(studies.id, paused.studyId));
			expect(await enterStudy(db, { slug: paused.slug, now: new Date() })).toEqual({
				ok: false,
				reason: 'paused'
			});
			expect(
				await enterStudy(db, { slug: paused.slug, existingToken: inside.token, now: new Date() })
			).toMatchObject({ ok: true, created: false });

			const closed = await seedStudy(db, { status: 'closed' });
			expect(await enterStudy(db, { slug: closed.slug, now: new Date() })).toEqual({
				ok: false,
				reason: 'closed'
			});
			expect(await enterStudy(db, { slug: 'nosuchstudy', now: new Date() })).toEqual({
				ok: false,
				reason: 'not_found'
			});
			expect(await countParticipants(db, closed.studyId)).toBe(0);
		});

		test('the GET view never creates a participant (link previews cost no slot)', async () => {
			const { studyId, slug } = await seedStudy(db);
			for (let i = 0; i < 5; i++) {
				const view = await viewStudyEntry(db, slug, null);
				expect(view?.participant).toBeNull();
				expect(view?.study.studyId).toBe(studyId);
			}
			expect(await countParticipants(db, studyId)).toBe(0);
			const entered = await enterStudy(db, { slug, now: new Date() });
			if (!entered.ok) throw new Error(entered.reason);
			expect((await viewStudyEntry(db, slug, entered.token))?.participant?.id).toBe(
				entered.participant.id
			);
			expect(await viewStudyEntry(db, 'nosuchstudy', null)).toBeNull();
		});

		test('the cookie is per study, HttpOnly, Lax, scoped to the link, Secure over https', () => {
			expect(participantCookieName('abc123')).not.toBe(participantCookieName('def456'));
			expect(participantCookieOptions('abc123', true)).toMatchObject({
				path: '/s/abc123',
				httpOnly: true,
				sameSite: 'lax',
				secure: true
			});
			expect(participantCookieOptions('abc123', false).secure).toBe(false);
		});
	});
}
