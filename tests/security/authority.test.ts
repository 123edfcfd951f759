import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { CloseCode, PROTOCOL_VERSION } from '../../src/lib/protocol';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';
import { closed, nextMessage, opened, openSocket, upgradeStatus } from '../support/app';
import { actOnStep, joinStudy, readStep, type JourneyServer } from '../support/journey';
import { requireService } from '../support/services';
import type { RunningServer } from '../support/server';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type StudyServer
} from '../support/study-server';

// Issue 14, section 3: authority is the server's, and it is live. On the built server, as an
// attacker with a view-only share would try it: a ticket naming a participant or `system`,
// telemetry and a `metric` ephemeral in a participant's name; then each way access is taken
// away (unshare, demote to view, demote the account, disable it) must close that person's open
// room and monitor sockets within a second and void the tickets they minted before.
setDefaultTimeout(120_000);

const PASSWORD = 'sturdy evening lantern';
/** The requirement: access changes reach open sockets within a second. */
const REVOCATION_BOUND_MS = 1_000;

type Person = { cookie: string; id: string; name: string; email: string };
type Frame = { type: string; [key: string]: unknown };

/** A room of one on a chat stage that outlasts the tests, then the end. */
function makeStudy(): StudyDefinition {
	const study = createBlankStudy('Authority');
	study.settings.session = {
		mode: 'matched',
		groupSize: 1,
		minGroupSize: 1,
		lobbyTimeoutSeconds: 60
	};
	const chat = createStage('chat', []);
	chat.durationSeconds = 3_600;
	study.stages = [chat, createStage('end', [chat.id])];
	return study;
}

/** A socket that records every frame it receives. */
function recordFrames(socket: WebSocket): Frame[] {
	const frames: Frame[] = [];
	socket.addEventListener('message', (event) =>
		frames.push(JSON.parse(String(event.data)) as Frame)
	);
	return frames;
}

const pg = requireService('TEST_DATABASE_URL', 'authority security tests on Postgres');
const targets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

for (const target of targets) {
	describe.skipIf(!target.available)(
		`authority is the server's, and live, on ${target.name}`,
		() => {
			let setup: StudyServer;
			let server: RunningServer;
			let study: { id: string; slug: string };
			let roomId: string;
			let memberId: string;
			let member: WebSocket;
			let memberFrames: Frame[];
			const people: Record<string, Person> = {};

			const at = (): JourneyServer => ({ base: server.url, origin: server.origin });
			const request = (method: string, path: string, cookie: string, body?: unknown) =>
				fetch(`${server.url}${path}`, {
					method,
					headers: {
						cookie,
						origin: server.origin,
						...(body === undefined ? {} : { 'content-type': 'application/json' })
					},
					body: body === undefined ? undefined : JSON.stringify(body)
				});
			const mint = (who: Person, body: unknown = {}) =>
				request('POST', `/api/rooms/${roomId}/tickets`, who.cookie, body);

			/** An account made through an admin's invite; its session cookie and id. */
			async function signUp(name: string, email: string): Promise<Person> {
				const { url } = await createAdminApi(server, setup.admin)<{ url: string }>(
					'POST',
					'/api/invites',
					{ role: 'researcher', email }
				);
				const response = await fetch(`${server.url}${new URL(url).pathname}`, {
					method: 'POST',
					redirect: 'manual',
					headers: {
						origin: server.origin,
						'content-type': 'application/x-www-form-urlencoded',
						accept: 'text/html'
					},
					body: new URLSearchParams({ name, email, password: PASSWORD, confirm: PASSWORD })
				});
				const header = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
				if (response.status !== 303 || !header) throw new Error(`sign-up: ${response.status}`);
				const cookie = header.split(';')[0]!;
				const me = (await (await request('GET', '/api/me', cookie)).json()) as {
					user: { id: string };
				};
				return { cookie, id: me.user.id, name, email };
			}

			/** Shares the study (as its owner) with `who` at `permission`. */
			async function share(who: Person, permission: 'view' | 'edit') {
				const response = await request(
					'POST',
					`/api/studies/${study.id}/members`,
					people.owner!.cookie,
					{
						email: who.email,
						permission
					}
				);
				expect(response.status).toBe(204);
			}

			/** A ticket socket as `who`, joined; with its `joined` frame and every later frame. */
			async function joinWithTicket(who: Person, body: unknown = {}) {
				const minted = await mint(who, body);
				expect(minted.status).toBe(201);
				const ticket = (await minted.json()) as { path: string; actor: string; role: string };
				const socket = openSocket(server, ticket.path);
				const frames = recordFrames(socket);
				await opened(socket);
				const joined = nextMessage<{ type: string; actor: string }>(
					socket,
					(m) => m.type === 'joined'
				);
				socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
				return { socket, frames, ticket, joined: await joined };
			}

			/** The room socket a signed-in person opens with their cookie, joined. */
			async function joinWithCookie(who: Person) {
				const socket = openSocket(server, `/realtime/rooms/${roomId}`, { cookie: who.cookie });
				await opened(socket);
				const joined = nextMessage<{ type: string; actor: string }>(
					socket,
					(m) => m.type === 'joined'
				);
				socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
				await joined;
				return socket;
			}

			/** The study's live monitor as `who`, once its first snapshot arrived. */
			async function watchMonitor(who: Person) {
				const socket = openSocket(server, `/realtime/studies/${study.id}/monitor`, {
					cookie: who.cookie
				});
				const snapshot = nextMessage(socket, (m) => m.type === 'snapshot', 10_000);
				await opened(socket);
				await snapshot;
				return socket;
			}

			/** Sync-quality telemetry rows the owner's report counts for the room's member. */
			async function storedSyncSamples(): Promise<{ memberId: string; samples: number }[]> {
				const response = await request(
					'GET',
					`/api/rooms/${roomId}/sync-quality`,
					people.owner!.cookie
				);
				expect(response.status).toBe(200);
				const report = (await response.json()) as {
					members: { memberId: string; samples: number }[];
					invalid: { syncQuality: number };
				};
				return report.members.map(({ memberId, samples }) => ({ memberId, samples }));
			}

			const syncSample = (id: string) => ({
				id,
				kind: 'sync.quality',
				t: Date.now(),
				value: {
					stageId: 'chat',
					errorMs: 5,
					phase: 'locked',
					rate: 1,
					offsetMs: 0,
					rttMs: 10,
					uncertaintyMs: 1,
					seeks: 0
				}
			});

			beforeAll(async () => {
				setup = await startStudyServer(target.postgres && pg.available ? pg.url : null);
				server = setup.server;
				people.owner = await signUp('Olga Owner', 'olga@authority.test');
				people.viewer = await signUp('Vic Viewer', 'vic@authority.test');
				people.editor = await signUp('Ed Editor', 'ed@authority.test');
				people.outsider = await signUp('Cy Outsider', 'cy@authority.test');
				study = await publishStudy(
					createAdminApi(server, people.owner.cookie),
					makeStudy(),
					'Authority'
				);
				await share(people.viewer, 'view');
				await share(people.editor, 'edit');

				// One participant, grouped at once (a group of one), with their socket open.
				const cookie = await joinStudy(at(), study.slug);
				expect((await actOnStep(at(), study.slug, cookie, 'ready')).type).toBe('success');
				const step = await readStep(at(), study.slug, cookie);
				expect(step).toMatchObject({ kind: 'in_room' });
				roomId = String(step!.roomId);
				member = openSocket(server, `/s/${study.slug}/realtime/${roomId}`, { cookie });
				memberFrames = recordFrames(member);
				await opened(member);
				const joined = nextMessage<{ type: string; actor: string }>(
					member,
					(m) => m.type === 'joined'
				);
				member.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
				memberId = (await joined).actor;
			});
			afterAll(async () => {
				member?.close();
				await setup?.stop();
			});

			test('a view collaborator cannot mint a ticket naming a participant or `system`', async () => {
				for (const body of [
					{ actor: memberId, role: 'observer' },
					{ actor: memberId },
					{ actor: 'system' },
					{ actor: 'system', role: 'observer' },
					{ role: 'participant' },
					{ role: 'bot' },
					{ role: 'experimenter' }
				]) {
					const refused = await mint(people.viewer!, body);
					expect({ body, status: refused.status }).toEqual({ body, status: 400 });
				}
				const own = await mint(people.viewer!);
				expect(own.status).toBe(201);
				expect(await own.json()).toMatchObject({
					actor: `u:${people.viewer!.id}`,
					role: 'observer'
				});
			});

			test("an observer's telemetry and ephemeral messages are refused, and nothing reaches the participant", async () => {
				const vic = await joinWithTicket(people.viewer!, { role: 'observer' });
				const errors = () => vic.frames.filter((f) => f.type === 'error');
				vic.socket.send(
					JSON.stringify({
						type: 'telemetry',
						samples: Array.from({ length: 51 }, (_, i) => syncSample(`forged-${i}`))
					})
				);
				vic.socket.send(
					JSON.stringify({
						type: 'ephemeral',
						kind: 'metric',
						data: { stageId: 'chat', metric: 'mean', members: [], group: null }
					})
				);
				const deadline = Date.now() + 5_000;
				while (errors().length < 2 && Date.now() < deadline) await Bun.sleep(20);
				expect(errors()).toEqual([
					{ type: 'error', code: 'forbidden', message: expect.stringContaining('participants') },
					{ type: 'error', code: 'forbidden', message: expect.stringContaining('Observers') }
				]);
				expect(vic.frames.some((f) => f.type === 'telemetry')).toBe(false);
				expect(vic.joined.actor).toBe(`u:${people.viewer!.id}`);

				// The participant's own sample is stored; the 51 forged ones never were.
				const answer = nextMessage(member, (m) => m.type === 'telemetry');
				member.send(JSON.stringify({ type: 'telemetry', samples: [syncSample('own-1')] }));
				expect(await answer).toMatchObject({ accepted: 1 });
				const until = Date.now() + 10_000;
				let stored = await storedSyncSamples();
				while (stored.length === 0 && Date.now() < until) {
					await Bun.sleep(100);
					stored = await storedSyncSamples();
				}
				expect(stored).toEqual([{ memberId, samples: 1 }]);
				if (setup.sql) {
					const rows = await setup.sql`select actor, count(*)::int as n from telemetry_samples
					where room_id = ${roomId} group by actor`;
					expect(rows.map((r) => [r.actor, r.n])).toEqual([[memberId, 1]]);
				}
				// Nobody but the server speaks as `system`, and the observer's frame never arrived.
				expect(memberFrames.filter((f) => f.type === 'ephemeral')).toEqual([]);
				const presence = memberFrames.filter((f) => f.type === 'presence').at(-1);
				expect(presence).toEqual({
					type: 'presence',
					actors: [memberId, `u:${people.viewer!.id}`].sort()
				});
				vic.socket.close();
			});

			test('an edit collaborator acts as themself: never a member, recorded as that experimenter', async () => {
				const ed = await joinWithTicket(people.editor!);
				const edActor = `u:${people.editor!.id}`;
				expect({ actor: ed.joined.actor, role: ed.ticket.role }).toEqual({
					actor: edActor,
					role: 'experimenter'
				});
				// A member's data: refused.
				const submit = nextMessage(ed.socket, (m) => m.type === 'rejected');
				ed.socket.send(
					JSON.stringify({
						type: 'command',
						id: 'ed-submit',
						name: 'stage.submit',
						payload: { stageId: 'chat', response: {} }
					})
				);
				expect(await submit).toMatchObject({ id: 'ed-submit', reason: 'forbidden' });
				const refusedTelemetry = nextMessage(ed.socket, (m) => m.type === 'error');
				ed.socket.send(JSON.stringify({ type: 'telemetry', samples: [syncSample('ed-1')] }));
				expect(await refusedTelemetry).toMatchObject({ code: 'forbidden' });
				// Their ephemeral reaches the participant as theirs, never as the server's metric.
				const relayed = nextMessage<Frame>(member, (m) => m.type === 'ephemeral');
				ed.socket.send(
					JSON.stringify({ type: 'ephemeral', kind: 'metric', data: { group: null } })
				);
				expect(await relayed).toMatchObject({ from: edActor, kind: 'metric' });
				// An intervention is recorded under their own id.
				const event = nextMessage<{ type: string; event: { actor: string; name: string } }>(
					member,
					(m) => m.type === 'event' && (m.event as { name: string }).name === 'room.message'
				);
				ed.socket.send(
					JSON.stringify({
						type: 'command',
						id: 'ed-message',
						name: 'room.message',
						payload: { text: 'Hello from the lab', memberId: null }
					})
				);
				expect((await event).event.actor).toBe(edActor);
				ed.socket.close();
			});

			test("a view collaborator's own socket is an observer's: their commands are refused", async () => {
				const socket = await joinWithCookie(people.viewer!);
				const answer = nextMessage(socket, (m) => m.type === 'rejected' || m.type === 'ack');
				socket.send(
					JSON.stringify({ type: 'command', id: 'vic-pause', name: 'room.pause', payload: {} })
				);
				expect(await answer).toMatchObject({
					type: 'rejected',
					id: 'vic-pause',
					reason: 'forbidden'
				});
				socket.close();
			});

			test('a ticket minted with an API token dies with the token: open socket 4401, unused ticket refused', async () => {
				const created = await request('POST', '/api/tokens', people.editor!.cookie, {
					name: 'tool'
				});
				expect(created.status).toBe(201);
				const { token, record } = (await created.json()) as {
					token: string;
					record: { id: string };
				};
				const mintWithToken = async () => {
					const response = await fetch(`${server.url}/api/rooms/${roomId}/tickets`, {
						method: 'POST',
						headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
						body: '{}'
					});
					expect(response.status).toBe(201);
					return (await response.json()) as { path: string; actor: string };
				};
				const minted = await mintWithToken();
				expect(minted.actor).toBe(`u:${people.editor!.id}`);
				const socket = openSocket(server, minted.path);
				await opened(socket);
				const unused = await mintWithToken();
				const closing = closed(socket, 5_000);
				const revoked = await request('DELETE', `/api/tokens/${record.id}`, people.editor!.cookie);
				expect(revoked.ok).toBe(true);
				const revokedAt = performance.now();
				expect((await closing).code).toBe(CloseCode.Unauthorized);
				expect(performance.now() - revokedAt).toBeLessThan(REVOCATION_BOUND_MS);
				expect(await upgradeStatus(server, unused.path, { Origin: server.origin })).toBe(401);
			});

			test('a ticket opens one socket once', async () => {
				const minted = (await (await mint(people.editor!)).json()) as { path: string };
				const headers = { Origin: server.origin };
				expect(await upgradeStatus(server, minted.path, headers)).toBe(101);
				expect(await upgradeStatus(server, minted.path, headers)).toBe(401);
			});

			test("/rooms/<id> is 404 without access to the study and names only the room's people", async () => {
				const outsider = await request('GET', `/rooms/${roomId}`, people.outsider!.cookie);
				expect(outsider.status).toBe(404);
				// People connected now are named too: wait until only the participant is.
				const deadline = Date.now() + 5_000;
				const latestPresence = () =>
					memberFrames.filter((f) => f.type === 'presence').at(-1)?.actors as string[];
				while (latestPresence().length > 1 && Date.now() < deadline) await Bun.sleep(20);
				expect(latestPresence()).toEqual([memberId]);
				const page = await request('GET', `/rooms/${roomId}`, people.owner!.cookie);
				expect(page.status).toBe(200);
				const html = await page.text();
				// Ed wrote in the room (the test above); Olga is looking. Cy and Vic never acted in it.
				expect(html).toContain(people.editor!.name);
				expect(html).toContain(people.owner!.name);
				for (const stranger of [people.outsider!, people.viewer!]) {
					expect(html).not.toContain(stranger.name);
					expect(html).not.toContain(stranger.id);
				}
			});

			/**
			 * Opens everything `who` can hold (a room socket by cookie, one by ticket, the monitor, an
			 * unused ticket), applies `change`, and expects every socket closed with 4403 within the
			 * bound and the unused ticket refused.
			 */
			async function expectRevoked(
				who: Person,
				ticketBody: { role?: 'observer' },
				change: () => Promise<Response>
			) {
				const sockets = [
					{ name: 'room (cookie)', socket: await joinWithCookie(who) },
					{ name: 'room (ticket)', socket: (await joinWithTicket(who, ticketBody)).socket },
					{ name: 'monitor', socket: await watchMonitor(who) }
				];
				const unused = (await (await mint(who, ticketBody)).json()) as { path: string };
				const closes = sockets.map(({ name, socket }) =>
					closed(socket, 5_000).then((c) => ({ name, code: c.code, at: performance.now() }))
				);
				const response = await change();
				const changedAt = performance.now();
				expect(response.ok).toBe(true);
				const results = await Promise.all(closes);
				for (const result of results) {
					expect({ name: result.name, code: result.code }).toEqual({
						name: result.name,
						code: CloseCode.AccessRevoked
					});
					expect(result.at - changedAt).toBeLessThan(REVOCATION_BOUND_MS);
				}
				expect(await upgradeStatus(server, unused.path, { Origin: server.origin })).toBe(403);
			}

			test("unsharing closes the colleague's room and monitor sockets within 1 s and voids their tickets", async () => {
				const ann = await signUp('Ann Unshared', 'ann@authority.test');
				await share(ann, 'view');
				await expectRevoked(ann, { role: 'observer' }, () =>
					request('DELETE', `/api/studies/${study.id}/members/${ann.id}`, people.owner!.cookie)
				);
			});

			test('demoting a colleague to view closes their experimenter and monitor sockets and voids their tickets', async () => {
				const dan = await signUp('Dan Demoted', 'dan@authority.test');
				await share(dan, 'edit');
				await expectRevoked(dan, {}, () =>
					request('POST', `/api/studies/${study.id}/members`, people.owner!.cookie, {
						email: dan.email,
						permission: 'view'
					})
				);
				// Interventions over HTTP check access on every request.
				const intervention = await request(
					'POST',
					`/api/studies/${study.id}/monitor/rooms/${roomId}/commands`,
					dan.cookie,
					{ id: 'dan-1', name: 'room.pause', payload: {} }
				);
				expect(intervention.status).toBe(403);
				// What is left works: Dan can still watch, as an observer.
				const again = (await (await mint(dan)).json()) as { role: string };
				expect(again.role).toBe('observer');
			});

			test('demoting an account to viewer closes its experimenter and monitor sockets and voids its tickets', async () => {
				const val = await signUp('Val Viewer-to-be', 'val@authority.test');
				await share(val, 'edit');
				await expectRevoked(val, {}, () =>
					request('PATCH', `/api/users/${val.id}`, setup.admin, { role: 'viewer' })
				);
			});

			test('disabling an account closes its room and monitor sockets and voids its tickets', async () => {
				const dis = await signUp('Dis Abled', 'dis@authority.test');
				await share(dis, 'edit');
				await expectRevoked(dis, {}, () =>
					request('PATCH', `/api/users/${dis.id}`, setup.admin, { disabled: true })
				);
			});
		}
	);
}
