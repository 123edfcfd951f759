import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { createBlankStudy, createStage } from '../../src/lib/study';
import { joinStudy, startParticipant } from '../support/journey';
import {
	seedAccount,
	serverTargets,
	signInOverApi,
	type SeededServer
} from '../support/seeded-server';
import { createAdminApi, publishStudy } from '../support/study-server';

// `/s/<slug>?resume=<token>` moves a participant to another browser. A browser that already
// takes part in the study as someone else must not be switched silently (a link sent by
// someone else would make this person answer as that participant): the page asks first, and
// only an explicit POST switches. Without a participant of its own, the browser adopts the
// token at once, as before.
setDefaultTimeout(90_000);

const ADMIN = { id: 'admin-resume', email: 'ada@resume.test', password: 'sturdy evening lantern' };

for (const target of serverTargets('resume links')) {
	describe.skipIf(!target.available)(`resume links on ${target.name}`, () => {
		let running: SeededServer;
		let slug: string;
		let mine: string;
		let theirs: string;

		const tokenOf = (cookie: string) => cookie.slice(cookie.indexOf('=') + 1);
		const participantCookie = (response: Response) =>
			response.headers
				.getSetCookie()
				.find((c) => c.startsWith(`ensemble_p_${slug}=`))
				?.split(';')[0] ?? null;

		beforeAll(async () => {
			running = await target.start((db) => seedAccount(db, { ...ADMIN, role: 'admin' }));
			const { server } = running;
			const api = createAdminApi(server, await signInOverApi(server, ADMIN.email, ADMIN.password));
			const study = createBlankStudy('Resume study');
			const consent = createStage('consent', []);
			if (consent.type === 'consent') consent.content.markdown = 'We keep your answers.';
			study.stages = [consent, createStage('end', ['consent'])];
			({ slug } = await publishStudy(api, study, 'Resume study'));
			const journey = { base: server.url, origin: server.origin };
			mine = await joinStudy(journey, slug);
			theirs = await joinStudy(journey, slug);
		});
		afterAll(() => running?.stop());

		function open(query: string, cookie: string | null): Promise<Response> {
			return fetch(`${running.server.url}/s/${slug}${query}`, {
				redirect: 'manual',
				headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) }
			});
		}

		test("another participant's resume link does not replace the cookie: the page asks", async () => {
			const response = await open(`?resume=${tokenOf(theirs)}`, mine);
			expect(participantCookie(response)).toBeNull();
			expect(response.status).toBe(200);
			const html = await response.text();
			expect(html).toContain('Continue as the other participant');
			expect(html).toContain('Keep my current session');
			expect(response.headers.get('cache-control')).toBe('no-store');
		});

		test('continuing is an explicit POST; keeping changes nothing', async () => {
			const { server } = running;
			const keep = await open('', mine);
			expect(keep.status).toBe(200);
			expect(participantCookie(keep)).toBeNull();
			const cross = await fetch(`${server.url}/s/${slug}?/resume`, {
				method: 'POST',
				redirect: 'manual',
				headers: {
					origin: 'https://evil.example',
					cookie: mine,
					accept: 'text/html',
					'content-type': 'application/x-www-form-urlencoded'
				},
				body: new URLSearchParams({ token: tokenOf(theirs) })
			});
			expect(cross.status).toBe(403);
			expect(participantCookie(cross)).toBeNull();
			const switched = await fetch(`${server.url}/s/${slug}?/resume`, {
				method: 'POST',
				redirect: 'manual',
				headers: {
					origin: server.origin,
					cookie: mine,
					accept: 'text/html',
					'content-type': 'application/x-www-form-urlencoded'
				},
				body: new URLSearchParams({ token: tokenOf(theirs) })
			});
			expect(switched.status).toBe(303);
			expect(switched.headers.get('location')).toBe(`/s/${slug}`);
			expect(participantCookie(switched)).toBe(theirs);
		});

		test('a browser without a participant of its own adopts the link at once, as before', async () => {
			const fresh = await open(`?resume=${tokenOf(theirs)}&utm=x`, null);
			expect(fresh.status).toBe(303);
			expect(fresh.headers.get('location')).toBe(`/s/${slug}?utm=x`);
			expect(participantCookie(fresh)).toBe(theirs);
			// Its own token: nothing to ask.
			const same = await open(`?resume=${tokenOf(mine)}`, mine);
			expect(same.status).toBe(303);
			// A token that is nobody's changes nothing and leaves the address.
			const bogus = await open('?resume=xxxxxxxxxxxxxxxxxxxxxx', mine);
			expect(bogus.status).toBe(303);
			expect(bogus.headers.get('location')).toBe(`/s/${slug}`);
			expect(participantCookie(bogus)).toBeNull();
		});

		test('the Start form does not switch participants through a resume parameter either', async () => {
			const { server } = running;
			const journey = { base: server.url, origin: server.origin };
			const response = await startParticipant(journey, slug, mine, `?resume=${tokenOf(theirs)}`);
			expect(response.status).toBe(303);
			const cookie = participantCookie(response);
			expect(cookie === null || cookie === mine).toBe(true);
		});
	});
}
