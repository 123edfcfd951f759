import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { Database } from '../../src/lib/server/db';
import {
	studies,
	studyVersionMedia,
	users,
	type StudyStatus
} from '../../src/lib/server/db/schema';
import { deleteMedia, findMedia, listMedia } from '../../src/lib/server/media/library';
import { createDiskStorage, type MediaStorage } from '../../src/lib/server/media/storage';
import { storeUpload, uploadTempDir, type UploadInput } from '../../src/lib/server/media/upload';
import { databaseTargets, type TestDatabase } from '../support/databases';

// The media library's storage and delete rules against PGlite and Postgres, without a server.

/** A valid 1×1 PNG. */
const PNG = Uint8Array.from(
	atob(
		'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
	),
	(char) => char.charCodeAt(0)
);

const streamOf = (bytes: Uint8Array<ArrayBuffer>) => new Blob([bytes]).stream();

for (const target of databaseTargets('media library')) {
	describe.skipIf(!target.available)(`media library on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		let dataDir: string;
		let storage: MediaStorage;
		const storageFor = () => storage;
		const people = {
			admin: { id: 'u-admin', role: 'admin' as const },
			ada: { id: 'u-ada', role: 'researcher' as const },
			ben: { id: 'u-ben', role: 'researcher' as const },
			vic: { id: 'u-vic', role: 'viewer' as const }
		};

		const leftovers = () =>
			[join(dataDir, 'media'), uploadTempDir(dataDir)].flatMap((dir) =>
				existsSync(dir) ? readdirSync(dir) : []
			);

		function store(ownerId: string, overrides: Partial<UploadInput> = {}) {
			return storeUpload(db, storage, {
				ownerId,
				filename: 'dot.png',
				claimedType: 'image/png',
				body: streamOf(PNG),
				declaredBytes: PNG.length,
				maxBytes: 1024,
				tempDir: uploadTempDir(dataDir),
				now: new Date(),
				...overrides
			});
		}

		async function useInStudy(mediaId: string, title: string, status: StudyStatus) {
			const id = `study-${title.replace(/\W/g, '-')}`;
			const now = new Date();
			await db.insert(studies).values({
				id,
				slug: id,
				ownerId: people.ada.id,
				title,
				status,
				draft: {},
				createdAt: now,
				updatedAt: now
			});
			await db.insert(studyVersionMedia).values({ studyId: id, version: 1, mediaId });
			return id;
		}

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
			dataDir = mkdtempSync(join(tmpdir(), 'ensemble-media-lib-'));
			storage = createDiskStorage(dataDir);
			await db.insert(users).values(
				Object.entries(people).map(([name, person]) => ({
					...person,
					email: `${name}@media.test`,
					name,
					passwordHash: 'not used'
				}))
			);
		});
		afterAll(async () => {
			await database?.dispose();
			rmSync(dataDir, { recursive: true, force: true });
		});

		test('an upload is hashed, sniffed, stored under its id and recorded', async () => {
			const result = await store(people.ada.id, { filename: 'C:\\scans\\dot.png' });
			expect(result.ok).toBe(true);
			if (!result.ok) return;
			expect(result.item).toMatchObject({
				filename: 'dot.png',
				kind: 'image',
				contentType: 'image/png',
				sizeBytes: PNG.length,
				sha256: new Bun.CryptoHasher('sha256').update(PNG).digest('hex'),
				storage: 'disk',
				storageKey: result.item.id,
				durationSeconds: null
			});
			expect(await Bun.file(join(dataDir, 'media', result.item.id)).bytes()).toEqual(PNG);
			expect(leftovers()).toEqual([result.item.id]);
			expect((await findMedia(db, result.item.id))?.ownerName).toBe('ada');
			await deleteMedia(db, storageFor, people.admin, result.item.id);
		});

		test('refused uploads leave no row and no file', async () => {
			const refusals = [
				await store(people.ada.id, { body: streamOf(new TextEncoder().encode('plain text')) }),
				await store(people.ada.id, { declaredBytes: 5000 }),
				await store(people.ada.id, { declaredBytes: null, maxBytes: 10 }),
				await store(people.ada.id, { body: streamOf(new Uint8Array()), declaredBytes: null }),
				await store(people.ada.id, { filename: ' / ' }),
				await store(people.ada.id, { filename: 'dot.mp4', claimedType: 'video/mp4' })
			];
			expect(refusals.map((r) => (r.ok ? 'ok' : r.reason))).toEqual([
				'unsupported_type',
				'too_large',
				'too_large',
				'empty',
				'no_filename',
				'mismatch'
			]);
			expect(await listMedia(db)).toEqual([]);
			expect(leftovers()).toEqual([]);
		});

		test('only the uploader or an admin may delete, never a viewer', async () => {
			const stored = await store(people.ada.id);
			if (!stored.ok) throw new Error(stored.message);
			const id = stored.item.id;
			expect(await deleteMedia(db, storageFor, people.ben, id)).toMatchObject({
				ok: false,
				reason: 'forbidden'
			});
			expect(await deleteMedia(db, storageFor, people.vic, id)).toMatchObject({
				reason: 'forbidden'
			});
			expect(await deleteMedia(db, storageFor, people.ada, id)).toMatchObject({ ok: true });
			expect(await deleteMedia(db, storageFor, people.ada, id)).toMatchObject({
				reason: 'not_found'
			});
			const again = await store(people.ada.id);
			if (!again.ok) throw new Error(again.message);
			expect(await deleteMedia(db, storageFor, people.admin, again.item.id)).toMatchObject({
				ok: true
			});
			expect(leftovers()).toEqual([]);
		});

		test('an item used by a live or paused study cannot be deleted; closed ones do not count', async () => {
			const stored = await store(people.ada.id);
			if (!stored.ok) throw new Error(stored.message);
			const id = stored.item.id;
			await useInStudy(id, 'Draft study', 'draft');
			await useInStudy(id, 'Closed study', 'closed');
			const live = await useInStudy(id, 'Trust game', 'live');
			const paused = await useInStudy(id, 'Public goods', 'paused');

			const refused = await deleteMedia(db, storageFor, people.admin, id);
			expect(refused).toMatchObject({
				ok: false,
				reason: 'in_use',
				studies: ['Public goods', 'Trust game']
			});
			if (!refused.ok) expect(refused.message).toContain('“Trust game”');
			expect(await findMedia(db, id)).not.toBeNull();
			expect(leftovers()).toEqual([id]);

			await db.update(studies).set({ status: 'closed' }).where(eq(studies.id, live));
			await db.update(studies).set({ status: 'closed' }).where(eq(studies.id, paused));
			expect(await deleteMedia(db, storageFor, people.admin, id)).toMatchObject({ ok: true });
			expect(await findMedia(db, id)).toBeNull();
			expect(leftovers()).toEqual([]);
		});
	});
}
