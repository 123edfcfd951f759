import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { createBlankStudy, createStage } from '../../src/lib/study';
import { joinStudy } from '../support/journey';
import {
	seedAccount,
	serverTargets,
	signInOverApi,
	type SeededServer
} from '../support/seeded-server';
import { createAdminApi, publishStudy } from '../support/study-server';

// Cookies are sent by the browser on its own; an Authorization header is not. A write that a
// cookie authenticates must therefore come with an allowed Origin, whatever other header it
// carries (before, any Authorization header let a cookie-authenticated write through without
// one). A script with only a bearer token needs no Origin. And what an authenticated request
// answers in JSON is never stored by a cache on the way (shared proxies, the browser's disk).
setDefaultTimeout(90_000);

const ADMIN = { id: 'admin-csrf', email: 'ada@csrf.test', password: 'sturdy evening lantern' };

for (const target of serverTargets('CSRF and caching')) {
	describe.skipIf(!target.available)(`Origin and Cache-Control on ${target.name}`, () => {
		let running: SeededServer;
		let session: string;
		let token: string;
		let studyId: string;
		let slug: string;
		let participant: string;

		beforeAll(async () => {
			running = await target.start((db) => seedAccount(db, { ...ADMIN, role: 'admin' }));
			const { server } = running;
			session = await signInOverApi(server, ADMIN.email, ADMIN.password);
			const api = createAdminApi(server, session);
			({ token } = await api<{ token: string }>('POST', '/api/tokens', { name: 'script' }));
			const study = createBlankStudy('CSRF study');
			const consent = createStage('consent', []);
			if (consent.type === 'consent') consent.content.markdown = 'We keep your answers.';
			study.stages = [consent, createStage('end', ['consent'])];
			({ id: studyId, slug } = await publishStudy(api, study, 'CSRF study'));
			participant = await joinStudy({ base: server.url, origin: server.origin }, slug);
		});
		afterAll(() => running?.stop());

		async function countInvites(): Promise<number> {
			const { server } = running;
			const response = await fetch(`${server.url}/api/invites`, { headers: { cookie: session } });
			return ((await response.json()) as { invites: unknown[] }).invites.length;
		}

		function postInvite(headers: Record<string, string>): Promise<Response> {
			return fetch(`${running.server.url}/api/invites`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', ...headers },
				body: JSON.stringify({ role: 'viewer' })
			});
		}

		test('a session-cookie write without Origin is refused even with an Authorization header', async () => {
			const before = await countInvites();
			for (const authorization of ['Bearer junk', `Bearer ${token}`, 'Basic Zm9vOmJhcg==']) {
				const response = await postInvite({ cookie: session, authorization });
				expect({ authorization, status: response.status }).toEqual({ authorization, status: 403 });
				expect(((await response.json()) as { error: string }).error).toBe('origin_required');
			}
			expect(await countInvites()).toBe(before);
		});

		test('a participant-cookie write without Origin is refused even with an Authorization header', async () => {
			const { server } = running;
			const response = await fetch(`${server.url}/s/${slug}/heartbeat`, {
				method: 'POST',
				headers: { cookie: participant, authorization: 'Bearer junk' }
			});
			expect(response.status).toBe(403);
			expect(((await response.json()) as { error: string }).error).toBe('origin_required');
		});

		test('a bearer token without cookies needs no Origin; with a cookie and Origin all is well', async () => {
			const before = await countInvites();
			const script = await postInvite({ authorization: `Bearer ${token}` });
			expect(script.status).toBe(201);
			const browser = await postInvite({ cookie: session, origin: running.server.origin });
			expect(browser.status).toBe(201);
			expect(await countInvites()).toBe(before + 2);
		});

		test('authenticated JSON is never cached: session, token and participant cookie', async () => {
			const { server } = running;
			const get = (path: string, headers: Record<string, string>) =>
				fetch(`${server.url}${path}`, { headers });
			const answers: [string, Response][] = [
				['session /api/me', await get('/api/me', { cookie: session })],
				['session /api/studies', await get('/api/studies', { cookie: session })],
				['session study detail', await get(`/api/studies/${studyId}`, { cookie: session })],
				['session page data', await get(`/studies/${studyId}/__data.json`, { cookie: session })],
				['token /api/me', await get('/api/me', { authorization: `Bearer ${token}` })],
				['token study list', await get('/api/studies', { authorization: `Bearer ${token}` })],
				['session 404', await get('/api/studies/nope', { cookie: session })],
				['participant page data', await get(`/s/${slug}/__data.json`, { cookie: participant })]
			];
			for (const [name, response] of answers) {
				expect({ name, type: response.headers.get('content-type')?.split(';')[0] }).toEqual({
					name,
					type: 'application/json'
				});
				const cacheControl = response.headers.get('cache-control') ?? '';
				expect({ name, noStore: /\bno-store\b/.test(cacheControl) }).toEqual({
					name,
					noStore: true
				});
			}
			// A form action answered in JSON (use:enhance) with the participant cookie.
			const action = await fetch(`${server.url}/s/${slug}?/respond`, {
				method: 'POST',
				headers: {
					origin: server.origin,
					cookie: participant,
					accept: 'application/json',
					'x-sveltekit-action': 'true',
					'content-type': 'application/x-www-form-urlencoded'
				},
				body: new URLSearchParams({ stageId: 'nope', response: '{}' })
			});
			expect(action.headers.get('cache-control') ?? '').toMatch(/\bno-store\b/);
		});
	});
}
