import type { Database } from '../../src/lib/server/db/database';
import { openDatabase } from '../../src/lib/server/db/open';
import { users, type Role } from '../../src/lib/server/db/schema';
import { createPostgresDatabase } from './databases';
import { requireService } from './services';
import { startServer, temporaryDataDir, type RunningServer } from './server';

/**
 * The built server on PGlite or on a fresh Postgres database, with rows written into the
 * database before it starts (PGlite admits one process at a time, so seeding happens first).
 */
export type SeededServer = { server: RunningServer; stop: () => Promise<void> };

export type ServerTarget = {
	name: 'pglite' | 'postgres';
	available: boolean;
	start: (
		seed?: (db: Database) => Promise<void>,
		env?: Record<string, string>
	) => Promise<SeededServer>;
};

async function seedAndStart(
	database: { databaseUrl?: string; dataDir: string },
	serverEnv: Record<string, string>,
	seed: ((db: Database) => Promise<void>) | undefined,
	cleanup: () => Promise<void>
): Promise<SeededServer> {
	if (seed) {
		const handle = await openDatabase(database);
		try {
			await seed(handle.db);
		} finally {
			await handle.close();
		}
	}
	// A generous start-up bound: the machine running the suite may be busy.
	const server = await startServer({ LOG_LEVEL: 'warn', ...serverEnv }, 90_000);
	return {
		server,
		stop: async () => {
			await server.stop();
			await cleanup();
		}
	};
}

/** PGlite always; Postgres when TEST_DATABASE_URL is set (required under CI). */
export function serverTargets(suite: string): ServerTarget[] {
	const pg = requireService('TEST_DATABASE_URL', `${suite} on Postgres`);
	return [
		{
			name: 'pglite',
			available: true,
			start: async (seed, env = {}) => {
				const data = temporaryDataDir();
				return seedAndStart({ dataDir: data.dir }, { DATA_DIR: data.dir, ...env }, seed, async () =>
					data.remove()
				);
			}
		},
		{
			name: 'postgres',
			available: pg.available,
			start: async (seed, env = {}) => {
				const database = await createPostgresDatabase(pg.available ? pg.url : '');
				const data = temporaryDataDir();
				return seedAndStart(
					{ databaseUrl: database.url, dataDir: '' },
					{ DATABASE_URL: database.url, DATA_DIR: data.dir, ...env },
					seed,
					async () => {
						await database.drop();
						data.remove();
					}
				);
			}
		}
	];
}

/** An account written straight into the database, with a real Argon2id hash of `password`. */
export async function seedAccount(
	db: Database,
	account: { id: string; email: string; role: Role; password: string }
): Promise<void> {
	await db.insert(users).values({
		id: account.id,
		email: account.email,
		name: account.id,
		role: account.role,
		passwordHash: await Bun.password.hash(account.password, {
			algorithm: 'argon2id',
			memoryCost: 19_456,
			timeCost: 2
		})
	});
}

/** Signs in over the JSON API; the session cookie as `name=value`. */
export async function signInOverApi(
	server: RunningServer,
	email: string,
	password: string,
	headers: Record<string, string> = {}
): Promise<string> {
	const response = await fetch(`${server.url}/api/auth/login`, {
		method: 'POST',
		headers: { origin: server.origin, 'content-type': 'application/json', ...headers },
		body: JSON.stringify({ email, password })
	});
	if (response.status !== 200) {
		throw new Error(`sign-in of ${email}: ${response.status} ${await response.text()}`);
	}
	const cookie = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
	if (!cookie) throw new Error(`sign-in of ${email}: no session cookie`);
	return cookie.split(';')[0]!;
}
