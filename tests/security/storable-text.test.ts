import { afterAll, beforeAll, describe, expect, setDefaultTimeout, spyOn, test } from 'bun:test';
import { inArray, sql } from 'drizzle-orm';
import fc from 'fast-check';
import type { RoomEvent, ServerMessage } from '../../src/lib/protocol';
import type { Database } from '../../src/lib/server/db/database';
import { stageResponses, telemetrySamples } from '../../src/lib/server/db/schema';
import { createLocalNetwork } from '../../src/lib/server/realtime/bus/local';
import { EventStore } from '../../src/lib/server/realtime/event-store';
import { createStudyRoomServices } from '../../src/lib/server/rooms/study-rooms';
import { createQuestionItem } from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';
import { FakeConnection, Replica, waitFor } from '../support/realtime';
import { makeStage, makeStudy } from '../support/room-study';
import { anyBreaksRule, anyText, nextId, seedStudyRoom } from '../support/storable';

// Issue 14 §1: bad content never breaks anyone else. Arbitrary strings (NUL, lone surrogates and a
// leading BOM come up in a good share of runs) go through every client message of the realtime
// protocol into a real hub on PGlite and Postgres, while a well-behaved room works beside them.
// What is acked must be stored exactly; what breaks the rule must be refused with a clear error
// for its sender alone, and nothing of it stored; nobody is ever closed with 1011.
setDefaultTimeout(120_000);

/** Property runs per database: a few hundred frames in all, a few seconds each. */
const SOCKET_RUNS = 150;

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
				const chatter = await join(chatRoom.roomId, chatRoom.memberIds[0]!);
				await join(chatRoom.roomId, chatRoom.memberIds[1]!);
				// The first member never submits, so the questionnaire stays open for the others.
				await join(questionRoom.roomId, questionRoom.memberIds[0]!);
				const submitters = questionRoom.memberIds.slice(1);
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
