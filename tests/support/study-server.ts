import postgres from 'postgres';
import { signUpFirstAdmin } from './app';
import { createPostgresDatabase } from './databases';
import { startServer, temporaryDataDir, type RunningServer } from './server';

/**
 * The built server with a signed-in admin, on PGlite or on a fresh Postgres database (with a
 * direct connection to it for checks), as the participant-side integration tests use it.
 */
export type StudyServer = {
	server: RunningServer;
	/** The admin's session cookie, `name=value`. */
	admin: string;
	/** A connection to the server's Postgres database; null on PGlite. */
	sql: postgres.Sql | null;
	stop(): Promise<void>;
};

/**
 * Starts it; `postgresUrl` is the service URL to create a database on (Postgres only), `extraEnv`
 * more settings (e.g. LiveKit's).
 */
export async function startStudyServer(
	postgresUrl: string | null,
	extraEnv: Record<string, string> = {}
): Promise<StudyServer> {
	const cleanups: (() => Promise<unknown> | void)[] = [];
	const data = temporaryDataDir();
	cleanups.push(data.remove);
	const env: Record<string, string> = { DATA_DIR: data.dir, LOG_LEVEL: 'warn' };
	let sql: postgres.Sql | null = null;
	if (postgresUrl !== null) {
		const database = await createPostgresDatabase(postgresUrl);
		cleanups.push(database.drop);
		env.DATABASE_URL = database.url;
		const connection = postgres(database.url, { max: 1, onnotice: () => {} });
		sql = connection;
		cleanups.unshift(() => connection.end());
	}
	const server = await startServer({ ...env, ...extraEnv });
	return {
		server,
		admin: await signUpFirstAdmin(server),
		sql,
		async stop() {
			await server.stop();
			for (const cleanup of cleanups) await cleanup();
		}
	};
}

/** JSON calls to the API as the signed-in admin; throws with the body on a non-2xx answer. */
export function createAdminApi(server: RunningServer, cookie: string) {
	return async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
		const response = await fetch(`${server.url}${path}`, {
			method,
			headers: {
				cookie,
				origin: server.origin,
				...(body === undefined ? {} : { 'content-type': 'application/json' })
			},
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		const text = await response.text();
		if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
		return JSON.parse(text) as T;
	};
}

export type AdminApi = ReturnType<typeof createAdminApi>;

/** Creates a study titled `title` with `definition` and publishes it; its id and slug. */
export async function publishStudy(
	api: AdminApi,
	definition: unknown,
	title: string
): Promise<{ id: string; slug: string }> {
	const { id } = await api<{ id: string }>('POST', '/api/studies', { title });
	const detail = await api<{ revision: number; slug: string }>('GET', `/api/studies/${id}`);
	await api('PUT', `/api/studies/${id}`, { definition, revision: detail.revision });
	await api('POST', `/api/studies/${id}/publish`);
	return { id, slug: detail.slug };
}
