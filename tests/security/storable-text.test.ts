import { afterAll, beforeAll, describe, expect, setDefaultTimeout, spyOn, test } from 'bun:test';
import { parse as parseDevalue } from 'devalue';
import { inArray, sql } from 'drizzle-orm';
import fc from 'fast-check';
import type { RoomEvent, ServerMessage } from '../../src/lib/protocol';
import type { Database } from '../../src/lib/server/db/database';
import { stageResponses, telemetrySamples } from '../../src/lib/server/db/schema';
import { createLocalNetwork } from '../../src/lib/server/realtime/bus/local';
import { EventStore } from '../../src/lib/server/realtime/event-store';
import { cleanFilename } from '../../src/lib/server/media/upload';
import { createStudyRoomServices } from '../../src/lib/server/rooms/study-rooms';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
	type StudyDefinition
} from '../../src/lib/study';
import { closed, openSocket, opened, signUpFirstAdmin } from '../support/app';
import { createPostgresDatabase, databaseTargets, type TestDatabase } from '../support/databases';
import { startParticipant } from '../support/journey';
import { FakeConnection, Replica, waitFor } from '../support/realtime';
import { makeStage, makeStudy } from '../support/room-study';
import { startServer, temporaryDataDir, type RunningServer } from '../support/server';
import { requireService } from '../support/services';
import { anyBreaksRule, anyText, breaksRule, nextId, percentEncode } from '../support/storable';
import { seedStudyRoom } from '../support/room-seed';
import { createAdminApi, publishStudy } from '../support/study-server';

// Issue 14 §1: bad content never breaks anyone else. Arbitrary strings (NUL, lone surrogates and a
// leading BOM come up in a good share of runs) go through every client message of the realtime
// protocol into a real hub on PGlite and Postgres, while a well-behaved room works beside them.
// What is acked must be stored exactly; what breaks the rule must be refused with a clear error
// for its sender alone, and nothing of it stored; nobody is ever closed with 1011.
setDefaultTimeout(120_000);

/** Property runs per database: a few hundred in all, a few seconds each. */
const SOCKET_RUNS = 150;
const HTTP_RUNS = 120;

type Outcome = Extract<
	ServerMessage,
	{ type: 'ack' | 'rejected' | 'error' | 'telemetry' | 'ephemeral' }
>;

/** Rows (postgres.js answers an array, PGlite an object with `rows`). */
function rowsOf<T>(result: unknown): T[] {
	return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

for (const target of databaseTargets('storable text')) {
	describe.skipIf(!target.available)(`the storable-text rule on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
		});
		afterAll(() => database?.dispose());

		/** A string through a text parameter and inside a jsonb value (as value and as key). */
		async function roundTrip(text: string): Promise<{ text: unknown; json: unknown }> {
			const [textRow] = rowsOf<{ v: unknown }>(await db.execute(sql`select ${text}::text as v`));
			const json = JSON.stringify({ [text]: [text] });
			const [jsonRow] = rowsOf<{ v: unknown }>(await db.execute(sql`select ${json}::jsonb as v`));
			const parsed = typeof jsonRow!.v === 'string' ? JSON.parse(jsonRow!.v) : jsonRow!.v;
			return { text: textRow!.v, json: parsed };
		}

		test('every code point the rule lets through reads back unchanged, in text and in jsonb', async () => {
			const chunks: string[] = [];
			let chunk = '';
			for (let cp = 1; cp <= 0x10ffff; cp++) {
				if (cp >= 0xd800 && cp <= 0xdfff) continue;
				// Every BMP code point; every 61st beyond it (the astral planes encode alike).
				if (cp > 0xffff && cp % 61 !== 0) continue;
				chunk += String.fromCodePoint(cp);
				if (chunk.length >= 6000) {
					chunks.push(chunk);
					chunk = '';
				}
			}
			chunks.push(chunk);
			for (const text of chunks) {
				const back = await roundTrip(text);
				expect(back.text === text).toBe(true);
				expect(back.json).toEqual({ [text]: [text] });
			}
		});

		test('what the rule refuses does not read back as it was sent', async () => {
			const fails = async (text: string) => {
				try {
					const back = await roundTrip(text);
					return (
						back.text !== text || JSON.stringify(back.json) !== JSON.stringify({ [text]: [text] })
					);
				} catch {
					return true;
				}
			};
			expect(await fails('a\u0000b')).toBe(true);
			expect(await fails('a\ud800b')).toBe(true);
			expect(await fails('\udc00')).toBe(true);
			// PGlite's driver drops a leading U+FEFF from every text value it reads; Postgres keeps it.
			const bom = await roundTrip('\ufeffhello');
			expect(bom.text).toBe(target.name === 'pglite' ? 'hello' : '\ufeffhello');
			expect(await fails('a\ufeffb')).toBe(false);
		});

		test('arbitrary text in every client message: refused for its sender alone, acked text stored exactly', async () => {
			const logged: string[] = [];
			const capture = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
			const spies = [
				spyOn(console, 'log').mockImplementation(capture),
				spyOn(console, 'warn').mockImplementation(capture),
				spyOn(console, 'error').mockImplementation(capture)
			];
			const replica = new Replica(db, createLocalNetwork().createBus(nextId('replica')), {
				studyRooms: createStudyRoomServices(db),
				rateLimit: { burst: 1_000_000, perSecond: 1_000_000 },
				presenceGraceMs: 600_000
			});
			replica.telemetry.start();
			const connections: FakeConnection[] = [];
			const join = async (roomId: string, actor: string) => {
				const connection = await replica.join(roomId, actor);
				connections.push(connection);
				await waitFor(`${actor} joined`, () => connection.of('joined').length === 1);
				return connection;
			};
			try {
				const store = new EventStore(db);
				const goodRoom = nextId('good');
				const badRoom = nextId('bad');
				await store.createRoom(goodRoom, 'sandbox');
				await store.createRoom(badRoom, 'sandbox');
				const chatStudy = makeStudy([
					makeStage('chat', 'talk', { advance: 'timer', durationSeconds: 3600 })
				]);
				const item = { ...createQuestionItem('long_text', []), id: 'q_text', required: false };
				const questionnaire = makeStage('questionnaire', 'q', {
					advance: 'all_submitted',
					durationSeconds: 3600
				});
				if (questionnaire.type === 'questionnaire') questionnaire.content.items = [item];
				const questionStudy = makeStudy([questionnaire]);
				const chatRoom = await seedStudyRoom(db, chatStudy, 2);
				const questionRoom = await seedStudyRoom(db, questionStudy, 40);

				const good = await join(goodRoom, 'good');
				const mallory = await join(badRoom, 'mallory');
				await join(badRoom, 'witness');
				const chatter = await join(chatRoom.roomId, chatRoom.ids[0]!);
				await join(chatRoom.roomId, chatRoom.ids[1]!);
				// The first member never submits, so the questionnaire stays open for the others.
				await join(questionRoom.roomId, questionRoom.ids[0]!);
				const submitters = questionRoom.ids.slice(1);
				let nextSubmitter = 0;

				/** What each acked command and accepted sample must be in storage. */
				const ackedEvents: { roomId: string; cid: string; expected: (e: RoomEvent) => void }[] = [];
				const refusedCids: { roomId: string; cid: string }[] = [];
				const acceptedSamples = new Map<string, unknown>();
				const refusedSamples: string[] = [];
				const submitted = new Map<string, unknown>();
				const canaries: string[] = [];

				const socketCase = fc.oneof(
					fc.record({ kind: fc.constant('sandbox.chat'), text: anyText() }),
					fc.record({ kind: fc.constant('sandbox.key'), key: anyText(), text: anyText() }),
					fc.record({ kind: fc.constant('study.chat'), text: anyText() }),
					fc.record({
						kind: fc.constant('study.submit'),
						key: fc.oneof(fc.constant('q_text'), anyText(8)),
						text: anyText()
					}),
					fc.record({ kind: fc.constant('telemetry'), key: anyText(8), text: anyText() }),
					fc.record({ kind: fc.constant('ephemeral'), key: anyText(8), text: anyText() }),
					fc.record({
						kind: fc.constant('misplaced'),
						text: anyText(),
						into: fc.constantFrom('ping', 'join', 'fetch', 'command', 'telemetry', 'ephemeral')
					}),
					fc.record({ kind: fc.constant('raw'), text: anyText(60) }),
					fc.record({ kind: fc.constant('names'), key: anyText(8), text: anyText(8) })
				);

				let run = 0;
				await fc.assert(
					fc.asyncProperty(socketCase, async (c) => {
						const i = ++run;
						const canary = `~canary${i}~`;
						canaries.push(canary);
						const text = ('text' in c ? c.text : '') + canary;
						const cid = `c${i}`;
						let sender = mallory;
						let roomId = badRoom;
						let frame: unknown;
						/** Where the rule's refusal must point, when the payload breaks it. */
						let rulePath: RegExp | null = null;
						let payloadForRule: unknown = undefined;
						let onAck: ((e: RoomEvent) => void) | null = null;
						let samples: { id: string; value: unknown }[] = [];
						switch (c.kind) {
							case 'sandbox.chat':
								frame = { type: 'command', id: cid, name: 'chat.send', payload: { text } };
								payloadForRule = { text };
								rulePath = /at payload/;
								onAck = (e) => expect(e.payload).toEqual({ text: text.trim() });
								break;
							case 'sandbox.key': {
								const payload = { text: 'hi', [c.key]: text };
								frame = { type: 'command', id: cid, name: 'chat.send', payload };
								payloadForRule = payload;
								rulePath = /at payload/;
								onAck = (e) => expect(e.payload).toEqual({ text: String(payload.text).trim() });
								break;
							}
							case 'study.chat':
								sender = chatter;
								roomId = chatRoom.roomId;
								frame = {
									type: 'command',
									id: cid,
									name: 'chat.send',
									payload: { stageId: 'talk', text }
								};
								payloadForRule = { text };
								rulePath = /at payload/;
								onAck = (e) => {
									expect(e.name).toBe('chat.sent');
									expect(e.payload).toMatchObject({ stageId: 'talk', text: text.trim() });
								};
								break;
							case 'study.submit': {
								const member = submitters[nextSubmitter++ % submitters.length]!;
								sender =
									connections.find((x) => x.auth.actor.id === member) ??
									(await join(questionRoom.roomId, member));
								roomId = questionRoom.roomId;
								const response = { type: 'questionnaire', answers: { [c.key]: text }, rtMs: 1200 };
								frame = {
									type: 'command',
									id: cid,
									name: 'stage.submit',
									payload: { stageId: 'q', response }
								};
								payloadForRule = response;
								rulePath = /at payload\.response/;
								onAck = (e) => {
									expect(e.name).toBe('stage.submitted');
									expect((e.payload as { response: unknown }).response).toEqual(response);
									submitted.set(member, response);
								};
								break;
							}
							case 'telemetry':
								samples = [
									{ id: `t${i}a`, value: text },
									{ id: `t${i}b`, value: { [c.key]: [text, i] } }
								];
								frame = {
									type: 'telemetry',
									samples: samples.map((s) => ({
										id: s.id,
										kind: 'probe.text',
										t: i,
										value: s.value
									}))
								};
								payloadForRule = samples.map((s) => s.value);
								rulePath = /at samples\.\d\.value/;
								break;
							case 'ephemeral':
								frame = { type: 'ephemeral', kind: 'typing', data: { [c.key]: text } };
								payloadForRule = { [c.key]: text };
								rulePath = /at data/;
								break;
							case 'misplaced':
								frame = {
									ping: { type: 'ping', id: text, t0: 0 },
									join: { type: 'join', v: text, lastSeq: 0 },
									fetch: { type: 'fetch', from: text, to: 1 },
									command: { type: 'command', id: cid, name: 'chat.send', payload: {}, [text]: 1 },
									telemetry: {
										type: 'telemetry',
										samples: [{ id: text, kind: 'probe.text', t: 0, value: 1 }]
									},
									ephemeral: { type: 'ephemeral', kind: text, data: null }
								}[c.into];
								break;
							case 'raw':
								frame = text;
								break;
							case 'names':
								frame = { type: 'command', id: c.key, name: c.text, payload: { text: 'hello' } };
								break;
						}
						const from = sender.frames.length;
						const goodFrom = good.frames.length;
						// The good room's command and sample share the commit and the flush with the frame.
						await Promise.all([
							sender.receive(frame),
							good.receive({
								type: 'command',
								id: `g${i}`,
								name: 'chat.send',
								payload: { text: `fine ${i}` }
							}),
							good.receive({
								type: 'telemetry',
								samples: [{ id: `gt${i}`, kind: 'probe.text', t: i, value: `fine ${i}` }]
							})
						]);
						const commandId =
							typeof frame === 'object' && frame !== null && 'id' in frame
								? (frame as { id: unknown }).id
								: undefined;
						const matches = (f: ServerMessage): f is Outcome =>
							((f.type === 'ack' || f.type === 'rejected') && f.id === commandId) ||
							f.type === 'error' ||
							f.type === 'telemetry' ||
							(f.type === 'ephemeral' && f.from === sender.auth.actor.id);
						await waitFor(`an answer to ${c.kind}`, () => {
							const closed = connections.filter((x) => x.closed).map((x) => x.closed);
							if (closed.length > 0) throw new Error(`sockets closed: ${JSON.stringify(closed)}`);
							return sender.frames.slice(from).some(matches);
						});
						await waitFor('the good room acked', () => {
							const answers = good.frames.slice(goodFrom);
							return (
								answers.some((f) => f.type === 'ack' && f.id === `g${i}`) &&
								answers.some((f) => f.type === 'telemetry' && f.accepted === 1)
							);
						});
						const outcome = sender.frames.slice(from).find(matches)!;

						if (rulePath && anyBreaksRule(payloadForRule)) {
							// Refused by the rule: a clear reason that names the place, for the sender alone.
							const message =
								outcome.type === 'rejected' || outcome.type === 'error' ? outcome.message : '';
							expect(
								outcome.type === 'rejected'
									? outcome.reason
									: outcome.type === 'error'
										? outcome.code
										: outcome.type
							).toBe('invalid_message');
							expect(message).toMatch(/Text may not (contain|start with)/);
							expect(message).toMatch(rulePath);
							expect(message).not.toContain(canary);
						}
						switch (outcome.type) {
							case 'ack':
								expect(onAck).not.toBeNull();
								ackedEvents.push({ roomId, cid: outcome.id, expected: onAck! });
								break;
							case 'rejected':
								expect(outcome.message.length).toBeGreaterThan(0);
								refusedCids.push({ roomId, cid: outcome.id });
								break;
							case 'error':
								expect(['invalid_message', 'invalid_json']).toContain(outcome.code);
								if (typeof commandId === 'string') refusedCids.push({ roomId, cid: commandId });
								refusedSamples.push(...samples.map((s) => s.id));
								break;
							case 'telemetry':
								expect(outcome).toEqual({ type: 'telemetry', accepted: samples.length });
								for (const s of samples) acceptedSamples.set(s.id, s.value);
								break;
							case 'ephemeral':
								expect(anyBreaksRule(payloadForRule)).toBe(false);
								expect(outcome.data).toEqual(payloadForRule);
								break;
						}
					}),
					{ numRuns: SOCKET_RUNS, endOnFailure: true }
				);

				// The good room, after: still answered, everything it was acked stored.
				await good.receive({
					type: 'command',
					id: 'g-after',
					name: 'chat.send',
					payload: { text: 'after' }
				});
				await waitFor('the last ack', () => good.of('ack').some((a) => a.id === 'g-after'));
				await replica.telemetry.flush();
				const goodEvents = await store.readEvents(goodRoom, 0);
				expect(goodEvents.map((e) => e.cid)).toEqual([
					...Array.from({ length: run }, (_, k) => `g${k + 1}`),
					'g-after'
				]);
				for (const event of goodEvents.slice(0, run)) {
					expect(event.payload).toEqual({ text: `fine ${event.cid!.slice(1)}` });
				}

				// Acked means stored, exactly; refused means nothing stored.
				const byRoom = new Map<string, RoomEvent[]>();
				for (const id of [badRoom, chatRoom.roomId, questionRoom.roomId]) {
					byRoom.set(id, await store.readEvents(id, 0));
				}
				for (const acked of ackedEvents) {
					const events = byRoom.get(acked.roomId)!.filter((e) => e.cid === acked.cid);
					expect(events.length).toBeGreaterThan(0);
					acked.expected(events[0]!);
				}
				for (const refused of refusedCids) {
					expect(byRoom.get(refused.roomId)!.some((e) => e.cid === refused.cid)).toBe(false);
				}
				const rows = await db
					.select()
					.from(telemetrySamples)
					.where(inArray(telemetrySamples.roomId, [goodRoom, badRoom]));
				const stored = new Map(rows.map((row) => [row.sampleId, row.value]));
				for (const [id, value] of acceptedSamples) expect(stored.get(id)).toEqual(value);
				for (const id of refusedSamples) expect(stored.has(id)).toBe(false);
				for (let k = 1; k <= run; k++) expect(stored.get(`gt${k}`)).toEqual(`fine ${k}`);
				const responses = await db
					.select()
					.from(stageResponses)
					.where(inArray(stageResponses.participantId, [...submitted.keys()]));
				for (const row of responses) expect(row.response).toEqual(submitted.get(row.participantId));
				expect(responses.length).toBe(submitted.size);

				// Nobody was closed, least of all with 1011; no log line repeats what was sent.
				expect(connections.filter((x) => x.closed).map((x) => x.closed)).toEqual([]);
				const leaked = logged.filter((line) => canaries.some((canary) => line.includes(canary)));
				expect(leaked).toEqual([]);
				console.info(
					`${target.name}: ${run} frames, ${ackedEvents.length} acked, ${refusedCids.length} refused commands, ${acceptedSamples.size} samples stored, ${refusedSamples.length} refused`
				);
			} finally {
				for (const spy of spies) spy.mockRestore();
				await replica.hub.shutdown();
			}
		});
	});
}

/** A study that can be published: consent, instructions, a chat for two, the end. */
function makeLinkStudy(): StudyDefinition {
	const study = createBlankStudy('Storable link');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	const consent = createStage('consent', []);
	if (consent.type === 'consent') consent.content.markdown = 'Agree?';
	const intro = createStage('instructions', ['consent']);
	const chat = createStage('chat', ['consent', 'instructions']);
	const end = createStage('end', ['consent', 'instructions', 'chat']);
	study.stages = [consent, intro, chat, end];
	return study;
}

/** The smallest file the upload sniffs as PNG. */
const PNG_BYTES = new Uint8Array([
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52
]);

type Answer = { status: number; body: Record<string, unknown> | null };

const pg = requireService('TEST_DATABASE_URL', 'storable text over HTTP on Postgres');
const serverTargets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

for (const target of serverTargets) {
	describe.skipIf(!target.available)(`the storable-text rule over HTTP on ${target.name}`, () => {
		let server: RunningServer;
		let admin: string;
		const cleanups: (() => unknown)[] = [];

		beforeAll(async () => {
			const data = temporaryDataDir();
			cleanups.push(data.remove);
			// Debug logging, so a line that repeats refused input anywhere would show.
			const env: Record<string, string> = { DATA_DIR: data.dir, LOG_LEVEL: 'debug' };
			if (target.postgres && pg.available) {
				const database = await createPostgresDatabase(pg.url);
				cleanups.unshift(database.drop);
				env.DATABASE_URL = database.url;
			}
			// A first PGlite boot creates the database: slow on a busy machine.
			server = await startServer(env, 120_000);
			cleanups.unshift(() => server.stop());
			admin = await signUpFirstAdmin(server);
		});
		afterAll(async () => {
			for (const cleanup of cleanups) await cleanup();
		});

		test('arbitrary text in every body, form, address and link: 400/404 with the rule, never 500, acked text stored exactly', async () => {
			const api = createAdminApi(server, admin);
			/** One request as a script sends it; the answer's status and JSON body, never thrown. */
			const call = async (
				method: string,
				path: string,
				body?: unknown,
				headers: Record<string, string> = {}
			): Promise<Answer> => {
				const json = body !== undefined && !(body instanceof Uint8Array);
				const response = await fetch(`${server.url}${path}`, {
					method,
					redirect: 'manual',
					headers: {
						cookie: admin,
						origin: server.origin,
						accept: 'application/json',
						...(json ? { 'content-type': 'application/json' } : {}),
						...headers
					},
					body: json ? JSON.stringify(body) : (body as BodyInit | undefined)
				});
				const text = await response.text();
				try {
					return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
				} catch {
					return { status: response.status, body: null };
				}
			};
			/** A form action as `use:enhance` posts it. */
			const act = async (path: string, fields: Record<string, string>) => {
				const response = await fetch(`${server.url}${path}`, {
					method: 'POST',
					headers: {
						cookie: admin,
						origin: server.origin,
						accept: 'application/json',
						'x-sveltekit-action': 'true',
						'content-type': 'application/x-www-form-urlencoded'
					},
					body: new URLSearchParams(fields)
				});
				const body = (await response.json()) as { type: string; status: number; data?: string };
				const data = body.data ? (parseDevalue(body.data) as Record<string, unknown>) : null;
				return { status: response.status, type: body.type, data };
			};

			const { id: studyId } = await api<{ id: string }>('POST', '/api/studies', {
				title: 'Target'
			});
			const linkStudy = await publishStudy(api, makeLinkStudy(), 'Link target');
			const goodRoom = (await api<{ room: { id: string } }>('POST', '/api/rooms', {})).room.id;
			const badRoom = (await api<{ room: { id: string } }>('POST', '/api/rooms', {})).room.id;
			const connect = async (roomId: string, lastSeq = 0) => {
				const socket = openSocket(server, `/realtime/rooms/${roomId}`, { cookie: admin });
				const frames: Record<string, unknown>[] = [];
				socket.addEventListener('message', (event) => frames.push(JSON.parse(String(event.data))));
				await opened(socket);
				socket.send(JSON.stringify({ type: 'join', v: 1, lastSeq }));
				await waitFor('joined', () => frames.some((f) => f.type === 'joined'));
				return { socket, frames };
			};
			const good = await connect(goodRoom);
			const bad = await connect(badRoom);
			const closes: number[] = [];
			for (const { socket } of [good, bad]) {
				socket.addEventListener('close', (event) => closes.push(event.code));
			}

			const statuses: number[] = [];
			const canaries: string[] = [];
			const ackedChat = new Map<string, string>();
			const linkRuns = new Map<string, string>();
			const httpCase = fc.record({
				kind: fc.constantFrom(
					'study.title',
					'study.draft',
					'study.import',
					'room.title',
					'token.json',
					'token.form',
					'login',
					'ticket',
					'monitor',
					'share',
					'invite',
					'query',
					'path',
					'link',
					'upload'
				),
				text: anyText()
			});

			let run = 0;
			await fc.assert(
				fc.asyncProperty(httpCase, async ({ kind, text: raw }) => {
					const i = ++run;
					const canary = `~canary${i}~`;
					canaries.push(canary);
					const text = raw + canary;
					// Forms, addresses and headers travel as UTF-8: an unpaired surrogate arrives as U+FFFD.
					const sent = text.toWellFormed();
					const broken = breaksRule(text);
					/** The rule's refusal as a JSON problem. */
					const expectRuleProblem = (answer: Answer, status = 400) => {
						expect(answer.status).toBe(status);
						if (status === 400) expect(answer.body?.error).toBe('unstorable_text');
						expect(JSON.stringify(answer.body)).not.toContain(canary);
					};
					let answer: Answer;
					switch (kind) {
						case 'study.title': {
							answer = await call('POST', '/api/studies', { title: text });
							if (broken) expectRuleProblem(answer);
							else if (answer.status === 201) {
								const detail = await call('GET', `/api/studies/${answer.body!.id}`);
								expect(detail.body!.title).toBe(text.trim());
							}
							break;
						}
						case 'study.draft': {
							const detail = await api<{ revision: number; draft: StudyDefinition }>(
								'GET',
								`/api/studies/${studyId}`
							);
							const definition = structuredClone(detail.draft);
							definition.settings.title = text;
							answer = await call('PUT', `/api/studies/${studyId}`, {
								definition,
								revision: detail.revision
							});
							if (broken) expectRuleProblem(answer);
							else if (answer.status === 200) {
								const after = await api<{ draft: StudyDefinition }>(
									'GET',
									`/api/studies/${studyId}`
								);
								expect(after.draft.settings.title).toBe(text);
							}
							break;
						}
						case 'study.import': {
							const definition = makeLinkStudy();
							definition.settings.title = 'Imported';
							const stage = definition.stages[0]!;
							if (stage.type === 'consent') stage.content.markdown = text;
							answer = await call('POST', '/api/studies/import', { definition });
							if (broken) {
								expect(answer.status).toBe(400);
								expect(JSON.stringify(answer.body)).toMatch(/Text may not (contain|start with)/);
							} else if (answer.status === 201) {
								const after = await api<{ draft: StudyDefinition }>(
									'GET',
									`/api/studies/${answer.body!.id}`
								);
								const back = after.draft.stages[0]!;
								expect(back.type === 'consent' && back.content.markdown).toBe(text);
							}
							break;
						}
						case 'room.title':
							answer = await call('POST', '/api/rooms', { title: text });
							if (broken) expectRuleProblem(answer);
							break;
						case 'token.json':
						case 'token.form': {
							let createdName: string | null = null;
							if (kind === 'token.json') {
								answer = await call('POST', '/api/tokens', { name: text });
								if (broken) expectRuleProblem(answer);
								else if (answer.status === 201) {
									createdName = (answer.body!.record as { name: string }).name;
								}
							} else {
								const result = await act('/account?/createToken', { name: sent });
								answer = { status: result.status, body: result.data };
								if (breaksRule(sent)) {
									expect(result.type).toBe('failure');
									expect(
										String((result.data?.tokenErrors as Record<string, string>)?.name)
									).toMatch(/Text may not (contain|start with)/);
								} else if (result.type === 'success') {
									createdName = (result.data!.createdToken as { name: string }).name;
								}
							}
							if (createdName !== null) {
								const expected = (kind === 'token.json' ? text : sent).trim();
								expect(createdName).toBe(expected);
								const list = await api<{ tokens: { name: string }[] }>('GET', '/api/tokens');
								expect(list.tokens.some((t) => t.name === expected)).toBe(true);
							}
							break;
						}
						case 'login':
							answer = await call(
								'POST',
								'/api/auth/login',
								{ email: text, password: text },
								{
									cookie: ''
								}
							);
							if (broken) expectRuleProblem(answer);
							break;
						case 'ticket':
							answer = await call('POST', `/api/rooms/${goodRoom}/tickets`, { actor: text });
							if (broken) expectRuleProblem(answer);
							break;
						case 'monitor':
							answer = await call('POST', `/api/studies/${studyId}/monitor/rooms/r-none/commands`, {
								id: `m${i}`,
								name: 'room.message',
								payload: { text, memberId: null }
							});
							if (broken) expectRuleProblem(answer);
							break;
						case 'share':
							answer = await call('POST', `/api/studies/${studyId}/members`, {
								email: text,
								permission: 'view'
							});
							if (broken) expectRuleProblem(answer);
							break;
						case 'invite':
							answer = await call('POST', '/api/invites', { role: 'viewer', email: text });
							if (broken) expectRuleProblem(answer);
							break;
						case 'query':
							answer = await call(
								'GET',
								`/api/studies/${studyId}/participants?q=${percentEncode(text)}`
							);
							if (breaksRule(sent)) expectRuleProblem(answer);
							else expect(answer.status).toBe(200);
							break;
						case 'path':
							answer = await call('GET', `/api/studies/${percentEncode(text)}`);
							expect(answer.status).toBe(404);
							break;
						case 'link': {
							const response = await startParticipant(
								{ base: server.url, origin: server.origin },
								linkStudy.slug,
								'',
								`?ref=${percentEncode(text)}&run=${i}`
							);
							answer = { status: response.status, body: null };
							if (breaksRule(sent)) expect(response.status).toBe(400);
							else {
								expect(response.status).toBe(303);
								linkRuns.set(String(i), sent);
							}
							break;
						}
						case 'upload': {
							const filename = `${text}.png`;
							answer = await call('POST', '/api/media', PNG_BYTES, {
								'content-type': 'image/png',
								'x-filename': encodeURIComponent(filename.toWellFormed())
							});
							if (breaksRule(filename.toWellFormed())) {
								expect(answer.status).toBe(400);
								expect(answer.body?.error).toBe('invalid_filename');
							} else if (answer.status === 201) {
								const media = answer.body!.media as { id: string; filename: string };
								expect(media.filename).toBe(cleanFilename(filename.toWellFormed())!);
								const back = await call('GET', `/api/media/${media.id}`);
								expect((back.body!.media as { filename: string }).filename).toBe(media.filename);
							}
							break;
						}
					}
					statuses.push(answer.status);
					expect(answer.status).not.toBe(500);

					// Meanwhile, on sockets of this server: the same text in a chat and a sample.
					const goodFrom = good.frames.length;
					const badFrom = bad.frames.length;
					bad.socket.send(
						JSON.stringify({ type: 'command', id: `b${i}`, name: 'chat.send', payload: { text } })
					);
					bad.socket.send(
						JSON.stringify({
							type: 'telemetry',
							samples: [{ id: `bt${i}`, kind: 'probe.text', t: i, value: text }]
						})
					);
					good.socket.send(
						JSON.stringify({
							type: 'command',
							id: `g${i}`,
							name: 'chat.send',
							payload: { text: `fine ${i}` }
						})
					);
					await waitFor('both rooms answered', () => {
						if (closes.length > 0) throw new Error(`sockets closed: ${closes.join(', ')}`);
						const badAnswered = bad.frames
							.slice(badFrom)
							.some((f) => (f.type === 'ack' || f.type === 'rejected') && f.id === `b${i}`);
						const badTelemetry = bad.frames
							.slice(badFrom)
							.some((f) => f.type === 'telemetry' || f.type === 'error');
						const goodAcked = good.frames
							.slice(goodFrom)
							.some((f) => f.type === 'ack' && f.id === `g${i}`);
						return badAnswered && badTelemetry && goodAcked;
					});
					const chat = bad.frames.slice(badFrom).find((f) => f.id === `b${i}`)!;
					if (broken) expect(chat).toMatchObject({ type: 'rejected', reason: 'invalid_message' });
					if (chat.type === 'ack') ackedChat.set(`b${i}`, text.trim());
				}),
				{ numRuns: HTTP_RUNS, endOnFailure: true }
			);

			// Acked chat is in the log exactly; the good room has every message, in order.
			bad.socket.close();
			good.socket.close();
			const replay = async (roomId: string) => {
				const again = await connect(roomId);
				await waitFor(
					'replay',
					() =>
						again.frames.some((f) => f.type === 'events') ||
						again.frames.some((f) => f.type === 'joined' && f.head === 0)
				);
				const events = again.frames.flatMap((f) =>
					f.type === 'events'
						? (f.events as RoomEvent[])
						: f.type === 'event'
							? [f.event as RoomEvent]
							: []
				);
				again.socket.close();
				await closed(again.socket);
				return events;
			};
			const badEvents = await replay(badRoom);
			expect(badEvents.map((e) => e.cid)).toEqual([...ackedChat.keys()]);
			for (const event of badEvents)
				expect(event.payload).toEqual({ text: ackedChat.get(event.cid!) });
			const goodEvents = await replay(goodRoom);
			expect(goodEvents.map((e) => e.cid)).toEqual(
				Array.from({ length: run }, (_, k) => `g${k + 1}`)
			);

			// Link parameters that were accepted are in the participant data exactly.
			const exported = await call(
				'GET',
				`/api/studies/${linkStudy.id}/data/participants?format=json&externalIds=1`
			);
			const rows = (Array.isArray(exported.body) ? exported.body : []) as {
				link_params: Record<string, string> | null;
			}[];
			const byRun = new Map(rows.map((row) => [row.link_params?.run, row.link_params?.ref]));
			for (const [i, ref] of linkRuns) expect(byRun.get(i)).toBe(ref);
			expect(rows.length).toBe(linkRuns.size);

			// Never a 500, and no log line repeats anything that was sent.
			expect(statuses.filter((status) => status >= 500)).toEqual([]);
			const log = server.output();
			expect(canaries.filter((canary) => log.includes(canary))).toEqual([]);
			console.info(
				`${target.name}: ${run} requests, statuses ${JSON.stringify(Object.fromEntries([...new Set(statuses)].map((s) => [s, statuses.filter((x) => x === s).length])))}`
			);
		});
	});
}
