import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema';

/** The Drizzle database, whichever driver is behind it (postgres.js or PGlite). */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A transaction handle; accepted wherever a `Database` is. */
export type Executor = Database;

export type DatabaseHandle = {
	db: Database;
	kind: 'postgres' | 'pglite';
	/** Where the data lives, for logs (never includes a password). */
	location: string;
	/** Resolves when a trivial query succeeds, rejects otherwise. */
	ping: () => Promise<void>;
	close: () => Promise<void>;
};
