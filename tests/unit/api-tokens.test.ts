import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import {
	createApiToken,
	listApiTokens,
	parseApiToken,
	revokeApiToken,
	validateApiToken
} from '../../src/lib/server/auth/api-tokens';
import type { Database } from '../../src/lib/server/db/database';
import { apiTokens, users } from '../../src/lib/server/db/schema';
import { resolveStudyAccess } from '../../src/lib/server/studies/access';
import { collectMediaIds } from '../../src/lib/server/studies/publishing';
import { exportFilename } from '../../src/lib/server/studies/transfer';
import { createBlankStudy, createStage } from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';

setDefaultTimeout(30_000);

describe('API token format', () => {
	test('only ens_<16>_<secret> parses', () => {
		expect(parseApiToken('ens_abcdefghijkmnpqr_secret')).toEqual({
			id: 'abcdefghijkmnpqr',
			secret: 'secret'
		});
		for (const bad of [
			'abcdefghijkmnpqr_secret',
			'ens_short_secret',
			'ens_abcdefghijkmnpqr',
			'ens_abcdefghijkmnpqr_',
			'ens_abcdefghijkmnpqr_a_b',
			`ens_abcdefghijkmnpqr_${'x'.repeat(200)}`
		]) {
			expect({ bad, parsed: parseApiToken(bad) }).toEqual({ bad, parsed: null });
		}
	});
});

describe('study access', () => {
	const owner = 'u-owner';
	test('admins see everything, owners own, members get their permission', () => {
		expect(resolveStudyAccess({ id: 'x', role: 'admin' }, owner, null)).toBe('admin');
		expect(resolveStudyAccess({ id: owner, role: 'researcher' }, owner, null)).toBe('owner');
		expect(resolveStudyAccess({ id: 'x', role: 'researcher' }, owner, 'edit')).toBe('edit');
		expect(resolveStudyAccess({ id: 'x', role: 'researcher' }, owner, 'view')).toBe('view');
		expect(resolveStudyAccess({ id: 'x', role: 'researcher' }, owner, null)).toBeNull();
	});

	test('a viewer account never gets more than view, and nothing it was not given', () => {
		expect(resolveStudyAccess({ id: 'x', role: 'viewer' }, owner, 'edit')).toBe('view');
		expect(resolveStudyAccess({ id: owner, role: 'viewer' }, owner, null)).toBe('view');
		expect(resolveStudyAccess({ id: 'x', role: 'viewer' }, owner, null)).toBeNull();
	});
});

describe('export file names and version media', () => {
	test('file names are safe ASCII with the version', () => {
		expect(exportFilename('My Study', 3)).toBe('my-study.v3.ensemble.json');
		expect(exportFilename('Café "Trust" / Game?', null)).toBe(
			'cafe-trust-game.draft.ensemble.json'
		);
		expect(exportFilename('日本語', 1)).toBe('study.v1.ensemble.json');
		expect(exportFilename(`${'a'.repeat(59)} b`, 1)).toBe(`${'a'.repeat(59)}.v1.ensemble.json`);
	});

	test('every video stage clip counts, variants included, once each', () => {
		const study = createBlankStudy();
		const first = createStage('video', []);
		const second = createStage('video', [first.id]);
		if (first.type !== 'video' || second.type !== 'video') throw new Error('video stages');
		first.content.mediaId = 'clip-a';
		first.variants.push({
			when: { roles: ['participant'], conditions: [] },
			content: { ...first.content, mediaId: 'clip-b' }
		});
		second.content.mediaId = 'clip-a';
		study.stages.splice(1, 0, first, second, createStage('wait', []));
		expect(collectMediaIds(study).sort()).toEqual(['clip-a', 'clip-b']);
		expect(collectMediaIds(createBlankStudy())).toEqual([]);
	});
});

for (const target of databaseTargets('API token tests')) {
	describe.skipIf(!target.available)(`API tokens on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		const start = new Date('2026-01-01T10:00:00Z');
		const later = (ms: number) => new Date(start.getTime() + ms);

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
			await db.insert(users).values([
				{ id: 'u-rhea', email: 'rhea@t.test', name: 'Rhea', passwordHash: 'x', role: 'researcher' },
				{ id: 'u-ben', email: 'ben@t.test', name: 'Ben', passwordHash: 'x', role: 'researcher' }
			]);
		});
		afterAll(() => database?.dispose());

		test('a token authenticates its owner; only the hash of its secret is stored', async () => {
			const { token, record } = await createApiToken(db, 'u-rhea', 'notebook', start);
			const secret = parseApiToken(token)!.secret;
			const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, record.id));
			expect(row!.secretHash).not.toContain(secret);
			expect(JSON.stringify(row)).not.toContain(secret);
			const result = await validateApiToken(db, token, later(1_000));
			expect(result).toEqual({
				ok: true,
				tokenId: record.id,
				user: { id: 'u-rhea', email: 'rhea@t.test', name: 'Rhea', role: 'researcher' }
			});
			expect(await validateApiToken(db, `${token}x`, later(1_000))).toEqual({ ok: false });
			expect(
				await validateApiToken(db, token.replace(record.id, 'a'.repeat(16)), later(1))
			).toEqual({ ok: false });
		});

		test('last use is written at most once a minute', async () => {
			const { token, record } = await createApiToken(db, 'u-rhea', 'cron', start);
			const lastUsed = async () =>
				(await listApiTokens(db, 'u-rhea')).find((t) => t.id === record.id)!.lastUsedAt;
			expect(await lastUsed()).toBeNull();
			await validateApiToken(db, token, later(1_000));
			expect(await lastUsed()).toEqual(later(1_000));
			await validateApiToken(db, token, later(30_000));
			expect(await lastUsed()).toEqual(later(1_000));
			await validateApiToken(db, token, later(61_000));
			expect(await lastUsed()).toEqual(later(61_000));
		});

		test('revoking is scoped to the owner and takes effect at once', async () => {
			const { token, record } = await createApiToken(db, 'u-rhea', 'ci', start);
			expect(await revokeApiToken(db, 'u-ben', record.id, later(1))).toEqual({
				ok: false,
				reason: 'not_found'
			});
			expect((await validateApiToken(db, token, later(2))).ok).toBe(true);
			expect(await revokeApiToken(db, 'u-rhea', record.id, later(3))).toEqual({ ok: true });
			expect(await validateApiToken(db, token, later(4))).toEqual({ ok: false });
			expect((await listApiTokens(db, 'u-rhea')).map((t) => t.id)).not.toContain(record.id);
			expect(await revokeApiToken(db, 'u-rhea', record.id, later(5))).toEqual({
				ok: false,
				reason: 'not_found'
			});
		});

		test('a disabled account cannot use its tokens', async () => {
			const { token } = await createApiToken(db, 'u-ben', 'laptop', start);
			expect((await validateApiToken(db, token, later(1))).ok).toBe(true);
			await db
				.update(users)
				.set({ disabledAt: later(2) })
				.where(eq(users.id, 'u-ben'));
			expect(await validateApiToken(db, token, later(3))).toEqual({ ok: false });
		});
	});
}
