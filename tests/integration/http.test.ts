import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createPostgresDatabase } from '../support/databases';
import { requireService } from '../support/services';
import { startServer, temporaryDataDir, type RunningServer } from '../support/server';

// These tests drive the built production server (`bun build/server.js`) over HTTP.
setDefaultTimeout(60_000);

const ADMIN = { name: 'Ada Admin', email: 'ada@http.test', password: 'sturdy evening lantern' };

type Client = { cookie: string | null };

function sessionCookie(response: Response): string | null {
	const header = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
	if (!header) return null;
	const pair = header.split(';')[0]!;
	return pair.endsWith('=') ? null : pair;
}

async function request(
	server: RunningServer,
	path: string,
	init: RequestInit & { client?: Client; origin?: string | null } = {}
): Promise<Response> {
	const headers = new Headers(init.headers);
	const origin = init.origin === undefined ? server.origin : init.origin;
	if (origin !== null && init.method && init.method !== 'GET') headers.set('origin', origin);
	if (init.client?.cookie) headers.set('cookie', init.client.cookie);
	return fetch(`${server.url}${path}`, { ...init, headers, redirect: 'manual' });
}

function postJson(
	server: RunningServer,
	path: string,
	body: unknown,
	init: Parameters<typeof request>[2] = {}
) {
	return request(server, path, {
		...init,
		method: init.method ?? 'POST',
		headers: { 'content-type': 'application/json', ...init.headers },
		body: typeof body === 'string' ? body : JSON.stringify(body)
	});
}

async function createFirstAdmin(server: RunningServer, origin = server.origin): Promise<Response> {
	const form = new URLSearchParams({ ...ADMIN, confirm: ADMIN.password });
	return request(server, '/setup', {
		method: 'POST',
		origin,
		// A browser's form post: Kit answers JSON only to `accept: application/json`.
		headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
		body: form
	});
}

type Target = {
	name: string;
	available: boolean;
	env: () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>;
};

const pg = requireService('TEST_DATABASE_URL', 'HTTP tests on Postgres');
const targets: Target[] = [
	{
		name: 'pglite',
		available: true,
		env: async () => {
			const data = temporaryDataDir();
			return { env: { DATA_DIR: data.dir }, cleanup: async () => data.remove() };
		}
	},
	{
		name: 'postgres',
		available: pg.available,
		env: async () => {
			const database = await createPostgresDatabase(pg.available ? pg.url : '');
			const data = temporaryDataDir();
			return {
				env: { DATABASE_URL: database.url, DATA_DIR: data.dir },
				cleanup: async () => {
					await database.drop();
					data.remove();
				}
			};
		}
	}
];

for (const target of targets) {
	describe.skipIf(!target.available)(`HTTP on ${target.name}`, () => {
		let server: RunningServer;
		let cleanup: () => Promise<void>;
		const admin: Client = { cookie: null };

		beforeAll(async () => {
			const setup = await target.env();
			cleanup = setup.cleanup;
			server = await startServer(setup.env);
			console.log(
				`[figure] ${target.name}: first boot to /readyz ${Math.round(server.readyMs)} ms`
			);
		});
		afterAll(async () => {
			await server?.stop();
			await cleanup?.();
		});

		test('first boot is ready within 15 s and /healthz, /readyz answer', async () => {
			expect(server.readyMs).toBeLessThan(15_000);
			expect(await (await request(server, '/healthz')).json()).toEqual({ status: 'ok' });
			const ready = await request(server, '/readyz');
			expect(ready.status).toBe(200);
			expect(await ready.json()).toMatchObject({
				status: 'ready',
				checks: { database: { ok: true } }
			});
		});

		test('pages and JSON carry the security headers', async () => {
			const page = await request(server, '/setup');
			expect(page.status).toBe(200);
			const csp = page.headers.get('content-security-policy') ?? '';
			expect(csp).toContain("object-src 'none'");
			expect(csp).toContain("frame-ancestors 'none'");
			expect(csp).toMatch(/script-src 'self' 'nonce-/);
			for (const response of [page, await request(server, '/healthz')]) {
				expect(response.headers.get('x-content-type-options')).toBe('nosniff');
				expect(response.headers.get('referrer-policy')).toBe('same-origin');
				expect(response.headers.get('x-frame-options')).toBe('DENY');
				expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
			}
		});

		test('before setup every page leads to first-run setup', async () => {
			for (const path of ['/', '/login']) {
				const response = await request(server, path);
				expect(response.status).toBe(303);
				expect(response.headers.get('location')).toBe('/setup');
			}
		});

		test('a cross-site form post is refused by the Origin check and creates nothing', async () => {
			const response = await createFirstAdmin(server, 'https://evil.example');
			expect(response.status).toBe(403);
			expect(sessionCookie(response)).toBeNull();
			expect((await request(server, '/setup')).status).toBe(200);
		});

		test('first-run setup creates the admin and signs them in with a hardened cookie', async () => {
			const response = await createFirstAdmin(server);
			expect(response.status).toBe(303);
			expect(response.headers.get('location')).toBe('/studies');
			const header = response.headers
				.getSetCookie()
				.find((c) => c.startsWith('ensemble_session='))!;
			expect(header).toMatch(/HttpOnly/i);
			expect(header).toMatch(/SameSite=Lax/i);
			expect(header).toMatch(/Path=\//);
			expect(header).not.toMatch(/Secure/i); // plain http on loopback
			admin.cookie = sessionCookie(response);
			const me = await request(server, '/api/me', { client: admin });
			expect(me.status).toBe(200);
			expect(await me.json()).toMatchObject({ user: { email: ADMIN.email, role: 'admin' } });
			// Setup is a one-time door.
			const again = await request(server, '/setup');
			expect(again.status).toBe(303);
			expect(again.headers.get('location')).toBe('/login');
		});

		test('JSON login: bad input gets a clear 4xx and sets no cookie', async () => {
			const cases: Array<[string, Response, number, string]> = [
				[
					'malformed JSON',
					await postJson(server, '/api/auth/login', '{"email":'),
					400,
					'invalid_json'
				],
				[
					'missing fields',
					await postJson(server, '/api/auth/login', { email: ADMIN.email }),
					400,
					'invalid_body'
				],
				[
					'wrong type',
					await postJson(server, '/api/auth/login', { email: ADMIN.email, password: 12345678 }),
					400,
					'invalid_body'
				],
				[
					'oversized body',
					await postJson(server, '/api/auth/login', {
						email: ADMIN.email,
						password: 'x'.repeat(70_000)
					}),
					413,
					'body_too_large'
				],
				[
					'form content type',
					await request(server, '/api/auth/login', {
						method: 'POST',
						headers: { 'content-type': 'text/plain' },
						body: '{}'
					}),
					415,
					'unsupported_media_type'
				],
				[
					'foreign Origin',
					await postJson(server, '/api/auth/login', ADMIN, { origin: 'https://evil.example' }),
					403,
					'origin_forbidden'
				],
				[
					'missing Origin',
					await postJson(server, '/api/auth/login', ADMIN, { origin: null }),
					403,
					'origin_required'
				]
			];
			for (const [name, response, status, error] of cases) {
				expect({ name, status: response.status }).toEqual({ name, status });
				const body = (await response.json()) as { error: string; message: string };
				expect({ name, error: body.error }).toEqual({ name, error });
				expect(body.message.length).toBeGreaterThan(10);
				expect(sessionCookie(response)).toBeNull();
			}
			const missing = await postJson(server, '/api/auth/login', { email: ADMIN.email });
			const issues = ((await missing.json()) as { issues: { path: string }[] }).issues;
			expect(issues.map((issue) => issue.path)).toEqual(['password']);
		});

		test('JSON login and logout; logout deletes the session server-side', async () => {
			const wrong = await postJson(server, '/api/auth/login', {
				...ADMIN,
				password: 'not the password'
			});
			expect(wrong.status).toBe(400);
			expect(await wrong.json()).toMatchObject({
				error: 'invalid_credentials',
				message: 'Incorrect email or password.'
			});
			const unknown = await postJson(server, '/api/auth/login', {
				...ADMIN,
				email: 'nobody@http.test'
			});
			expect(await unknown.json()).toMatchObject({ message: 'Incorrect email or password.' });

			const login = await postJson(server, '/api/auth/login', ADMIN);
			expect(login.status).toBe(200);
			const client: Client = { cookie: sessionCookie(login) };
			expect(client.cookie).not.toBeNull();
			expect(client.cookie).not.toBe(admin.cookie); // a new session on every login
			expect((await request(server, '/api/me', { client })).status).toBe(200);
			expect((await postJson(server, '/api/auth/logout', {}, { client })).status).toBe(204);
			const after = await request(server, '/api/me', { client });
			expect(after.status).toBe(401);
			// The other session is untouched.
			expect((await request(server, '/api/me', { client: admin })).status).toBe(200);
		});

		test('repeated failures for one account get 429 with Retry-After', async () => {
			const target = { email: 'target@http.test', password: 'guess guess guess' };
			const statuses: number[] = [];
			// Three free mistakes, the fourth starts the backoff, the fifth waits.
			for (let i = 0; i < 4; i++)
				statuses.push((await postJson(server, '/api/auth/login', target)).status);
			expect(statuses).toEqual([400, 400, 400, 400]);
			const response = await postJson(server, '/api/auth/login', target);
			expect(response.status).toBe(429);
			expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
			expect(await response.json()).toMatchObject({ error: 'too_many_attempts' });
			expect(sessionCookie(response)).toBeNull();
		});

		test('admin API: invites are created only from valid, same-origin requests', async () => {
			const count = async () =>
				(
					(await (await request(server, '/api/invites', { client: admin })).json()) as {
						invites: unknown[];
					}
				).invites.length;
			expect(await count()).toBe(0);
			const refused = [
				await postJson(server, '/api/invites', '{"role":', { client: admin }),
				await postJson(server, '/api/invites', { role: 'overlord' }, { client: admin }),
				await postJson(
					server,
					'/api/invites',
					{ role: 'viewer', pad: 'x'.repeat(70_000) },
					{ client: admin }
				),
				await postJson(
					server,
					'/api/invites',
					{ role: 'viewer' },
					{ client: admin, origin: 'https://evil.example' }
				),
				await postJson(server, '/api/invites', { role: 'viewer' })
			];
			expect(refused.map((r) => r.status)).toEqual([400, 400, 413, 403, 401]);
			expect(await count()).toBe(0);
			const created = await postJson(server, '/api/invites', { role: 'viewer' }, { client: admin });
			expect(created.status).toBe(201);
			const body = (await created.json()) as { url: string };
			expect(body.url).toStartWith(`${server.origin}/invite/`);
			expect(await count()).toBe(1);
			const invitePage = await request(server, new URL(body.url).pathname);
			expect(await invitePage.text()).toContain('You have been invited as');
		});

		test('admin API: user updates validate their body and protect the last admin', async () => {
			const me = (await (await request(server, '/api/me', { client: admin })).json()) as {
				user: { id: string };
			};
			const empty = await postJson(
				server,
				`/api/users/${me.user.id}`,
				{},
				{ client: admin, method: 'PATCH' }
			);
			expect(empty.status).toBe(400);
			const self = await postJson(
				server,
				`/api/users/${me.user.id}`,
				{ role: 'viewer' },
				{ client: admin, method: 'PATCH' }
			);
			expect(self.status).toBe(409);
			const users = (await (await request(server, '/api/users', { client: admin })).json()) as {
				users: { role: string }[];
			};
			expect(users.users.map((u) => u.role)).toEqual(['admin']);
		});

		test('self sign-up is closed by default', async () => {
			expect((await request(server, '/signup')).status).toBe(404);
			const form = new URLSearchParams({
				name: 'Eve',
				email: 'eve@http.test',
				password: 'x'.repeat(12)
			});
			const post = await request(server, '/signup', {
				method: 'POST',
				headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
				body: form
			});
			expect(post.status).toBe(404);
			expect(sessionCookie(post)).toBeNull();
		});

		test('pages need a session: the dashboard redirects to sign-in', async () => {
			const response = await request(server, '/studies');
			expect(response.status).toBe(303);
			expect(response.headers.get('location')).toBe('/login?next=%2Fstudies');
			const signedIn = await request(server, '/studies', { client: admin });
			expect(signedIn.status).toBe(200);
			expect(await signedIn.text()).toContain('No studies yet');
		});
	});
}

describe('server lifecycle on PGlite', () => {
	const data = temporaryDataDir();
	afterAll(() => data.remove());

	test('SIGTERM shuts down cleanly, data survives, warm boot is fast, a second process is refused', async () => {
		const first = await startServer({ DATA_DIR: data.dir });
		expect((await createFirstAdmin(first)).status).toBe(303);
		expect(existsSync(join(data.dir, 'ensemble.lock'))).toBe(true);

		const rival = Bun.spawn(['bun', 'build/server.js'], {
			env: { ...process.env, DATA_DIR: data.dir, PORT: '1', LOG_LEVEL: 'info' },
			stdout: 'pipe',
			stderr: 'pipe'
		});
		expect(await rival.exited).toBe(1);
		const rivalOutput =
			(await new Response(rival.stderr).text()) + (await new Response(rival.stdout).text());
		expect(rivalOutput).toContain(`already in use by process ${first.process.pid}`);

		expect(await first.stop('SIGTERM')).toBe(0);
		expect(first.output()).toContain('server.stopped');
		expect(existsSync(join(data.dir, 'ensemble.lock'))).toBe(false);

		const second = await startServer({ DATA_DIR: data.dir });
		console.log(`[figure] pglite: warm boot to /readyz ${Math.round(second.readyMs)} ms`);
		const login = await postJson(second, '/api/auth/login', ADMIN);
		expect(login.status).toBe(200);
		expect(await second.stop('SIGINT')).toBe(0);
	});

	test('unconfigured ORIGIN accepts loopback names; ALLOW_SIGNUP opens sign-up', async () => {
		const other = temporaryDataDir();
		const server = await startServer({ DATA_DIR: other.dir, ORIGIN: '', ALLOW_SIGNUP: 'true' });
		try {
			// The browser used http://127.0.0.1:port while ORIGIN defaults to http://localhost:port.
			expect((await createFirstAdmin(server)).status).toBe(303);
			expect((await request(server, '/signup')).status).toBe(200);
			const password = 'a sensible long phrase';
			const form = new URLSearchParams({
				name: 'Rita',
				email: 'rita@http.test',
				password,
				confirm: password
			});
			const post = await request(server, '/signup', {
				method: 'POST',
				headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
				body: form
			});
			expect(post.status).toBe(303);
			const me = await request(server, '/api/me', { client: { cookie: sessionCookie(post) } });
			expect(await me.json()).toMatchObject({
				user: { email: 'rita@http.test', role: 'researcher' }
			});
		} finally {
			await server.stop();
			other.remove();
		}
	});

	test('over https the cookie is __Host- prefixed and Secure', async () => {
		const other = temporaryDataDir();
		const server = await startServer({ DATA_DIR: other.dir, ORIGIN: 'https://ensemble.test' });
		try {
			const response = await createFirstAdmin(server, 'https://ensemble.test');
			expect(response.status).toBe(303);
			const header = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='))!;
			expect(header).toStartWith('__Host-ensemble_session=');
			expect(header).toMatch(/; Secure/i);
			expect(response.headers.get('strict-transport-security')).toContain('max-age=');
		} finally {
			await server.stop();
			other.remove();
		}
	});
});
