import { getEnv } from '../config/env';
import type { DatabaseHandle } from './database';
import { openDatabase } from './open';

export type { Database, DatabaseHandle, Executor } from './database';

const DB_KEY = Symbol.for('ensemble.database');
type DbGlobal = { [DB_KEY]?: Promise<DatabaseHandle> };

/**
 * The process-wide database, opened (and migrated) on first use. Kept on `globalThis` so the
 * Bun entry and the SvelteKit bundle share one connection pool, and one PGlite instance.
 */
export function getDatabaseHandle(): Promise<DatabaseHandle> {
	const store = globalThis as DbGlobal;
	if (!store[DB_KEY]) {
		const env = getEnv();
		const opening = openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
		// A failed open is not cached, so the next request (or readiness probe) tries again.
		opening.catch(() => {
			if (store[DB_KEY] === opening) delete store[DB_KEY];
		});
		store[DB_KEY] = opening;
	}
	return store[DB_KEY];
}

/** Shorthand for request handlers: the Drizzle database. */
export async function getDatabase() {
	return (await getDatabaseHandle()).db;
}

/** Closes the process-wide database if it was opened. */
export async function closeDatabase(): Promise<void> {
	const store = globalThis as DbGlobal;
	const opening = store[DB_KEY];
	delete store[DB_KEY];
	if (!opening) return;
	const handle = await opening.catch(() => undefined);
	await handle?.close();
}
