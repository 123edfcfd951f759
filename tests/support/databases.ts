import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { DatabaseHandle } from '../../src/lib/server/db/database';
import { openDatabase } from '../../src/lib/server/db/open';
import { requireService } from './services';

/** A database under test: a fresh, migrated, empty instance, and a way to throw it away. */
export type TestDatabase = { handle: DatabaseHandle; url?: string; dispose: () => Promise<void> };

export type DatabaseTarget = {
	name: 'pglite' | 'postgres';
	available: boolean;
	create: () => Promise<TestDatabase>;
};

async function createPglite(): Promise<TestDatabase> {
	const dir = mkdtempSync(join(tmpdir(), 'ensemble-test-'));
	const handle = await openDatabase({ dataDir: dir });
	return {
		handle,
		dispose: async () => {
			await handle.close();
			rmSync(dir, { recursive: true, force: true });
		}
	};
}

/** Creates an empty database on the test server, named so leftovers are recognisable. */
export async function createPostgresDatabase(
	adminUrl: string
): Promise<{ url: string; drop: () => Promise<void> }> {
	const name = `ensemble_test_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
	const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
	await admin.unsafe(`create database ${name}`);
	await admin.end();
	const url = new URL(adminUrl);
	url.pathname = `/${name}`;
	return {
		url: url.toString(),
		drop: async () => {
			const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
			await cleanup.unsafe(`drop database if exists ${name} with (force)`);
			await cleanup.end();
		}
	};
}

async function createPostgres(adminUrl: string): Promise<TestDatabase> {
	const database = await createPostgresDatabase(adminUrl);
	const handle = await openDatabase({ databaseUrl: database.url, dataDir: '' });
	return {
		handle,
		url: database.url,
		dispose: async () => {
			await handle.close();
			await database.drop();
		}
	};
}

/** PGlite always; Postgres when TEST_DATABASE_URL is set (required under CI). */
export function databaseTargets(suite: string): DatabaseTarget[] {
	const pg = requireService('TEST_DATABASE_URL', `${suite} on Postgres`);
	return [
		{ name: 'pglite', available: true, create: createPglite },
		{
			name: 'postgres',
			available: pg.available,
			create: () => createPostgres(pg.available ? pg.url : '')
		}
	];
}
