import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { CookieJar } from '../support/cookie-jar';
import { seedAccount, serverTargets, type SeededServer } from '../support/seeded-server';

// The lockout run: an attacker from rotating addresses keeps failing to sign in as the only
// admin. Untrusted clients (no device cookie for the account) are locked out, as they should
// be; the real admin, whose browser signed in before and holds a device cookie, still signs in
// with the right password, through the HTML form and the JSON API alike. Loopback only: the
// server reads the client address from X-Forwarded-For, so each attempt can come from "another"
// address. Bounded: at most 30 attacker attempts and two waits of a few seconds.
setDefaultTimeout(120_000);

const ADMIN = {
	id: 'admin-lockout',
	email: 'root@lockout.test',
	password: 'sturdy evening lantern'
};
const WRONG = 'not the password at all';
const MAX_ATTACK_ATTEMPTS = 30;
/** The attacker waits out a lock only while it is this short (the test stays bounded). */
const MAX_WAIT_S = 5;

type Route = 'form' | 'json';

for (const target of serverTargets('lockout run')) {
	describe.skipIf(!target.available)(`lockout run on ${target.name}`, () => {
		let running: SeededServer;

		beforeAll(async () => {
			running = await target.start((db) => seedAccount(db, { ...ADMIN, role: 'admin' }), {
				ADDRESS_HEADER: 'x-forwarded-for',
				XFF_DEPTH: '1'
			});
		});
		afterAll(() => running?.stop());

		/** One sign-in attempt from `address`, with the cookies of `jar` (a browser) or none. */
		async function attempt(
			route: Route,
			password: string,
			address: string,
			jar: CookieJar | null = null
		): Promise<Response> {
			const { server } = running;
			const headers: Record<string, string> = {
				origin: server.origin,
				'x-forwarded-for': address,
				...(jar && jar.header() ? { cookie: jar.header() } : {})
			};
			const response =
				route === 'form'
					? await fetch(`${server.url}/login`, {
							method: 'POST',
							redirect: 'manual',
							headers: {
								...headers,
								accept: 'text/html',
								'content-type': 'application/x-www-form-urlencoded'
							},
							body: new URLSearchParams({ email: ADMIN.email, password })
						})
					: await fetch(`${server.url}/api/auth/login`, {
							method: 'POST',
							headers: { ...headers, 'content-type': 'application/json' },
							body: JSON.stringify({ email: ADMIN.email, password })
						});
			jar?.update(response);
			return response;
		}

		const signedIn = (route: Route, response: Response) =>
			route === 'form' ? response.status === 303 : response.status === 200;

		test('rotating addresses lock untrusted clients out; the admin with a device cookie signs in', async () => {
			// The admin's browser has signed in before (then the session ended; the device cookie
			// stays, as it does in a real browser).
			const adminBrowser = new CookieJar();
			const first = await attempt('form', ADMIN.password, '198.51.100.7', adminBrowser);
			expect(first.status).toBe(303);
			for (const name of adminBrowser.names()) {
				if (name.includes('ensemble_session')) adminBrowser.delete(name);
			}

			// The attack: every attempt from a new address, alternating the form and the API.
			const statuses: number[] = [];
			let lockedAfter: number | null = null;
			for (let i = 1; i <= MAX_ATTACK_ATTEMPTS; i++) {
				const response = await attempt(i % 2 ? 'json' : 'form', WRONG, `203.0.113.${i}`);
				statuses.push(response.status);
				if (response.status === 429) {
					lockedAfter = i - 1;
					break;
				}
				expect(response.status).toBe(400);
			}
			expect(lockedAfter).not.toBeNull();
			let extraAddress = 100;
			/** How long the lock still lasts, as the API says it (Retry-After, seconds). */
			const readLock = async () => {
				const probe = await attempt('json', WRONG, `203.0.113.${extraAddress++}`);
				expect(probe.status).toBe(429);
				return Number(probe.headers.get('retry-after') ?? 0);
			};
			// The attacker keeps going: each time the lock lapses, one more failure makes it longer.
			let failures = lockedAfter!;
			let retryAfterS = await readLock();
			while (retryAfterS > 0 && retryAfterS < MAX_WAIT_S && failures < MAX_ATTACK_ATTEMPTS) {
				await Bun.sleep(retryAfterS * 1000 + 50);
				const miss = await attempt('json', WRONG, `203.0.113.${extraAddress++}`);
				expect(miss.status).toBe(400);
				failures++;
				retryAfterS = await readLock();
			}
			expect(retryAfterS).toBeGreaterThanOrEqual(MAX_WAIT_S - 1);

			// A client the account has never seen is locked out, even with the right password.
			const stranger = { form: 0, json: 0 };
			for (const route of ['form', 'json'] as const) {
				stranger[route] = (await attempt(route, ADMIN.password, '192.0.2.50')).status;
			}
			expect(stranger).toEqual({ form: 429, json: 429 });

			// The admin's own browser is throttled only by its own failures: both routes sign in,
			// from the usual address and from a new one.
			const trusted = {
				form: signedIn('form', await attempt('form', ADMIN.password, '198.51.100.7', adminBrowser)),
				json: signedIn('json', await attempt('json', ADMIN.password, '198.51.100.8', adminBrowser))
			};
			expect(trusted).toEqual({ form: true, json: true });

			console.log(
				`[figure] lockout run on ${target.name}: untrusted clients locked out after ` +
					`${lockedAfter} failed attacker attempts from ${lockedAfter} addresses ` +
					`(attempt ${lockedAfter! + 1} got 429); after ${failures} failures the lock ` +
					`was ${retryAfterS} s; right password without a device cookie: form ` +
					`${stranger.form}, JSON ${stranger.json}; with the device cookie: form ` +
					`${trusted.form ? 'signed in (303)' : 'refused'}, JSON ` +
					`${trusted.json ? 'signed in (200)' : 'refused'}`
			);
		});
	});
}
