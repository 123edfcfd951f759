import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import postgres from 'postgres';
import { log } from '../log';
import type { Database, DatabaseHandle } from './database';
import { acquireDirectoryLock } from './lock';
import * as schema from './schema';

/** The generated SQL migrations, committed in `drizzle/` at the project root. */
export const MIGRATIONS_FOLDER = resolve(process.cwd(), 'drizzle');

/** Any fixed 64-bit number; all replicas use it so only one migrates at a time. */
const MIGRATION_LOCK_KEY = 7_277_100_001;

export type OpenOptions = { databaseUrl?: string; dataDir: string; migrate?: boolean };

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
	const handle = options.databaseUrl
		? await openPostgres(options.databaseUrl)
		: await openPglite(options.dataDir);
	if (options.migrate !== false) {
		const started = performance.now();
		try {
			if (options.databaseUrl) await migratePostgresLocked(options.databaseUrl);
			else await migratePglite(handle.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
		} catch (error) {
			await handle.close();
			throw error;
		}
		log.info('db.migrated', { ms: Math.round(performance.now() - started) });
	}
	return handle;
}

function describePostgresUrl(url: string): string {
	const parsed = new URL(url);
	return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

async function openPostgres(url: string): Promise<DatabaseHandle> {
	const client = postgres(url, { max: 10, onnotice: () => {} });
	const db = drizzlePostgres(client, { schema }) as unknown as Database;
	const location = describePostgresUrl(url);
	log.info('db.connecting', { driver: 'postgres', location });
	await client`select 1`;
	return {
		db,
		kind: 'postgres',
		location,
		ping: async () => {
			await client`select 1`;
		},
		close: () => client.end({ timeout: 5 })
	};
}

/**
 * Applies migrations on a dedicated single connection holding a session advisory lock, so
 * replicas booting together do not race on the same DDL.
 */
async function migratePostgresLocked(url: string): Promise<void> {
	const client = postgres(url, { max: 1, onnotice: () => {} });
	try {
		await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
		await migratePostgres(drizzlePostgres(client), { migrationsFolder: MIGRATIONS_FOLDER });
		await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
	} finally {
		await client.end({ timeout: 5 });
	}
}

async function openPglite(dataDir: string): Promise<DatabaseHandle> {
	const directory = resolve(dataDir);
	mkdirSync(directory, { recursive: true });
	const locked = acquireDirectoryLock(directory);
	if (!locked.ok) {
		const { pid, host, since } = locked.holder;
		throw new Error(
			`The embedded database in ${directory} is already in use by process ${pid} on ${host}` +
				(since ? ` (since ${since})` : '') +
				'. PGlite allows one process per directory: stop the other Ensemble process, ' +
				'use a different DATA_DIR, or set DATABASE_URL to share a Postgres server.'
		);
	}
	const pgDir = join(directory, 'pglite');
	const firstRun = !existsSync(join(pgDir, 'PG_VERSION'));
	log.info(firstRun ? 'db.initialising' : 'db.opening', {
		driver: 'pglite',
		location: pgDir,
		note: firstRun ? 'first run creates the database, this takes a few seconds' : undefined
	});
	const started = performance.now();
	let client: PGlite;
	try {
		client = await PGlite.create(pgDir);
	} catch (error) {
		locked.lock.release();
		throw error;
	}
	log.info('db.opened', { driver: 'pglite', ms: Math.round(performance.now() - started) });
	const db = drizzlePglite(client, { schema }) as unknown as Database;
	return {
		db,
		kind: 'pglite',
		location: pgDir,
		ping: async () => {
			await client.query('select 1');
		},
		close: async () => {
			try {
				if (!client.closed) await client.close();
			} finally {
				locked.lock.release();
			}
		}
	};
}
