import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { CloseCode, PROTOCOL_VERSION } from '../../src/lib/protocol';
import { eq, sql } from 'drizzle-orm';
import { telemetrySamples } from '../../src/lib/server/db/schema';
import { createLocalNetwork } from '../../src/lib/server/realtime/bus/local';
import type { Database } from '../../src/lib/server/db/database';
import { EventStore } from '../../src/lib/server/realtime/event-store';
import { databaseTargets, type TestDatabase } from '../support/databases';
import { command, Replica, waitFor } from '../support/realtime';

// The hub driven by plain calls (no sockets), against real databases.
setDefaultTimeout(30_000);

let roomCounter = 0;

for (const target of databaseTargets('realtime hub tests')) {
	describe.skipIf(!target.available)(`realtime hub on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		const replicas: Replica[] = [];

		const newRoom = async () => {
			const id = `room-${target.name}-${++roomCounter}`;
			await new EventStore(db).createRoom(id, 'sandbox');
			return id;
		};
		const replica = (
			bus = createLocalNetwork().createBus(`solo-${replicas.length}`),
			options = {}
		) => {
			const created = new Replica(db, bus, options);
			replicas.push(created);
			return created;
		};

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
		});
		afterAll(async () => {
			for (const r of replicas) await r.hub.shutdown();
			await database?.dispose();
		});

		test('a command is committed, fanned out to every member, then acked to its sender', async () => {
			const r = replica();
			const roomId = await newRoom();
			const alice = await r.join(roomId, 'alice');
			const bob = await r.join(roomId, 'bob');
			expect(alice.of('joined')[0]).toMatchObject({ room: roomId, actor: 'alice', head: 0 });
			await alice.receive(command('a1', 'hello'));
			await waitFor('ack', () => alice.of('ack').length === 1);
			expect(alice.of('ack')[0]).toEqual({ type: 'ack', id: 'a1', seq: 1 });
			// The ack came after the commit: the event is in the log.
			expect(await r.store.readEvents(roomId, 0)).toMatchObject([
				{ seq: 1, actor: 'alice', name: 'chat.sent', cid: 'a1' }
			]);
			// ... and after the fan-out.
			const ackIndex = alice.frames.findIndex((f) => f.type === 'ack');
			const eventIndex = alice.frames.findIndex((f) => f.type === 'event');
			expect(eventIndex).toBeLessThan(ackIndex);
			expect(bob.events().map((e) => e.seq)).toEqual([1]);
			expect(bob.events()[0]!.payload).toEqual({ text: 'hello' });
		});

		test('a retried command id is applied once and acked again with the same seq', async () => {
			const r = replica();
			const roomId = await newRoom();
			const alice = await r.join(roomId, 'alice');
			await alice.receive(command('same', 'once'));
			await alice.receive(command('same', 'once'));
			await waitFor('two acks', () => alice.of('ack').length === 2);
			// After a reconnect to a fresh replica, the retry is still recognised.
			const again = await replica().join(roomId, 'alice', 1);
			await again.receive(command('same', 'once'));
			await waitFor('third ack', () => again.of('ack').length === 1);
			expect([...alice.of('ack'), ...again.of('ack')].map((a) => a.seq)).toEqual([1, 1, 1]);
			expect(await r.store.readEvents(roomId, 0)).toHaveLength(1);
			// Another actor may use the same client id: ids are per actor.
			const bob = await r.join(roomId, 'bob', 1);
			await bob.receive(command('same', 'mine'));
			await waitFor('bob ack', () => bob.of('ack').length === 1);
			expect(bob.of('ack')[0]!.seq).toBe(2);
		});

		test('a reconnecting member gets exactly what it missed, then live events', async () => {
			const r = replica();
			const roomId = await newRoom();
			const alice = await r.join(roomId, 'alice');
			const bob = await r.join(roomId, 'bob');
			for (let i = 1; i <= 3; i++) await alice.receive(command(`a${i}`, `m${i}`));
			await waitFor('bob has 3', () => bob.events().length === 3);
			bob.drop();
			for (let i = 4; i <= 7; i++) await alice.receive(command(`a${i}`, `m${i}`));
			await waitFor('7 acks', () => alice.of('ack').length === 7);
			const back = await r.join(roomId, 'bob', 3);
			await alice.receive(command('a8', 'm8'));
			await waitFor('bob live', () => back.events().length === 5);
			expect(back.of('joined')[0]!.head).toBe(7);
			expect(back.events().map((e) => e.seq)).toEqual([4, 5, 6, 7, 8]);
		});

		test('too far behind: a snapshot instead of a replay; fetch fills a range', async () => {
			const r = replica(undefined, { replayLimit: 3 });
			const roomId = await newRoom();
			const alice = await r.join(roomId, 'alice');
			for (let i = 1; i <= 6; i++) await alice.receive(command(`a${i}`, `m${i}`));
			await waitFor('6 acks', () => alice.of('ack').length === 6);
			const late = await r.join(roomId, 'late', 1);
			expect(late.of('resync')).toHaveLength(1);
			expect(late.of('resync')[0]).toMatchObject({
				head: 6,
				snapshot: { seq: 6, messageCount: 6 }
			});
			expect(late.events()).toHaveLength(0);
			await late.receive({ type: 'fetch', from: 2, to: 4 });
			expect(late.events().map((e) => e.seq)).toEqual([2, 3, 4]);
			// A client claiming to be ahead of the log is resynced too.
			const confused = await r.join(roomId, 'confused', 99);
			expect(confused.of('resync')[0]!.head).toBe(6);
		});

		test('the room refuses what it must, with a reason, and stores nothing for it', async () => {
			const r = replica();
			const roomId = await newRoom();
			const alice = await r.join(roomId, 'alice');
			const watcher = await r.join(roomId, 'u:viewer', 0, 'observer');
			await alice.receive({ type: 'command', id: 'x1', name: 'no.such', payload: {} });
			await alice.receive({ type: 'command', id: 'x2', name: 'chat.send', payload: { text: '' } });
			await alice.receive({ type: 'command', id: 'x3', name: 'room.close', payload: {} });
			await watcher.receive(command('w1', 'observers are silent'));
			await waitFor(
				'rejections',
				() => alice.of('rejected').length === 3 && watcher.of('rejected').length === 1
			);
			expect(alice.of('rejected').map((r) => r.reason)).toEqual([
				'unknown_command',
				'invalid_command',
				'forbidden'
			]);
			expect(watcher.of('rejected')[0]!.reason).toBe('forbidden');
			const experimenter = await r.join(roomId, 'u:lead', 0, 'experimenter');
			await experimenter.receive({
				type: 'command',
				id: 'e1',
				name: 'room.close',
				payload: { reason: 'done' }
			});
			await waitFor('closed', () => experimenter.of('ack').length === 1);
			await alice.receive(command('x4', 'too late'));
			await waitFor('closed rejection', () => alice.of('rejected').length === 4);
			expect(alice.of('rejected')[3]!.reason).toBe('room_closed');
			expect((await r.store.readEvents(roomId, 0)).map((e) => e.name)).toEqual(['room.closed']);
		});

		test('garbage frames get an error reply and never crash the hub', async () => {
			const r = replica();
			const roomId = await newRoom();
			const alice = await r.join(roomId, 'alice');
			const deep = JSON.stringify({
				type: 'command',
				id: 'd',
				name: 'chat.send',
				payload: JSON.parse('['.repeat(50) + ']'.repeat(50))
			});
			const inputs: unknown[] = [
				'{not json',
				'[]',
				'null',
				'42',
				{ type: 'nope' },
				{ type: 'command', id: 5, name: 'chat.send', payload: {} },
				{ type: 'command', id: 'ok', name: 'chat.send', payload: {}, extra: 1 },
				{ type: 'fetch', from: -1, to: 'x' },
				{ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 },
				deep,
				'{"type":"ephemeral","kind":"typing","data":{"__proto__":{"polluted":true}}}'
			];
			for (const input of inputs) await alice.receive(input);
			await r.hub.message(alice, new Uint8Array([1, 2, 3]));
			const errors = alice.of('error');
			expect(errors.map((e) => e.code)).toEqual([
				'invalid_json',
				'invalid_message',
				'invalid_message',
				'invalid_message',
				'invalid_message',
				'invalid_message',
				'invalid_message',
				'already_joined',
				'binary_not_supported'
			]);
			// Malformed commands with a readable id are rejected by id, so clients can settle them.
			expect(alice.of('rejected').map((r) => [r.id, r.reason])).toEqual([
				['ok', 'invalid_message'],
				['d', 'invalid_message']
			]);
			expect(({} as Record<string, unknown>).polluted).toBeUndefined();
			expect(alice.closed).toBeUndefined();
			// Still working afterwards.
			await alice.receive(command('after', 'still here'));
			await waitFor('ack', () => alice.of('ack').length === 1);
		});

		test('protocol version, join timeout, unknown rooms and floods close with documented codes', async () => {
			const r = replica(undefined, { joinTimeoutMs: 50, rateLimit: { burst: 20, perSecond: 1 } });
			const roomId = await newRoom();
			const old = r.connect(roomId, 'old');
			await old.receive({ type: 'join', v: PROTOCOL_VERSION + 1, lastSeq: 0 });
			expect(old.of('incompatible')[0]).toMatchObject({ serverVersion: PROTOCOL_VERSION });
			expect(old.closed?.code).toBe(CloseCode.Incompatible);

			const silent = r.connect(roomId, 'silent');
			await waitFor('join timeout', () => silent.closed !== undefined);
			expect(silent.closed?.code).toBe(CloseCode.JoinTimeout);

			const lost = r.connect('no-such-room', 'lost');
			await lost.receive({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 });
			expect(lost.closed?.code).toBe(CloseCode.RoomNotFound);

			const flood = await r.join(roomId, 'flood');
			for (let i = 0; i < 30 && !flood.closed; i++)
				await flood.receive({ type: 'ping', id: i, t0: 0 });
			expect(flood.closed?.code).toBe(CloseCode.RateLimited);
			expect(r.metrics.closedRateLimited).toBe(1);
		});

		test('clock pings are answered with receive and send times', async () => {
			const r = replica();
			const alice = await r.join(await newRoom(), 'alice');
			const before = performance.timeOrigin + performance.now();
			await alice.receive({ type: 'ping', id: 7, t0: 123 });
			const pong = alice.of('pong')[0]!;
			expect(pong).toMatchObject({ id: 7, t0: 123 });
			expect(pong.t1).toBeGreaterThanOrEqual(before);
			expect(pong.t2).toBeGreaterThanOrEqual(pong.t1);
		});

		test('ephemeral messages and presence reach members and are never stored', async () => {
			const r = replica();
			const roomId = await newRoom();
			const alice = await r.join(roomId, 'alice');
			const bob = await r.join(roomId, 'bob');
			await alice.receive({ type: 'ephemeral', kind: 'typing', data: { on: true } });
			expect(bob.of('ephemeral')).toEqual([
				{ type: 'ephemeral', from: 'alice', kind: 'typing', data: { on: true } }
			]);
			expect(alice.of('presence').at(-1)!.actors).toEqual(['alice', 'bob']);
			bob.drop();
			await waitFor('presence update', () => alice.of('presence').at(-1)!.actors.length === 1);
			expect(await r.store.readEvents(roomId, 0)).toHaveLength(0);
		});

		test('telemetry is stored once per sample id; a full queue asks the client to retry', async () => {
			const r = replica();
			const roomId = await newRoom();
			const alice = await r.join(roomId, 'alice');
			const samples = Array.from({ length: 50 }, (_, i) => ({
				id: `s${i}`,
				kind: 'rating',
				t: i,
				value: i / 50
			}));
			await alice.receive({ type: 'telemetry', samples });
			await alice.receive({ type: 'telemetry', samples: samples.slice(0, 10) }); // resent
			expect(alice.of('telemetry').map((t) => t.accepted)).toEqual([50, 10]);
			await r.telemetry.flush();
			const [count] = await db
				.select({ n: sql<number>`count(*)::int` })
				.from(telemetrySamples)
				.where(eq(telemetrySamples.roomId, roomId));
			expect(count!.n).toBe(50);

			const { TelemetryWriter } = await import('../../src/lib/server/realtime/telemetry-writer');
			const tiny = replica(undefined, {
				telemetry: new TelemetryWriter(db, r.metrics, { maxQueue: 10, flushIntervalMs: 60_000 })
			});
			const bob = await tiny.join(roomId, 'bob');
			await bob.receive({ type: 'telemetry', samples: samples.slice(0, 8) });
			await bob.receive({ type: 'telemetry', samples: samples.slice(8, 16) });
			expect(bob.of('telemetry')[0]).toEqual({ type: 'telemetry', accepted: 8 });
			expect(bob.of('telemetry')[1]).toMatchObject({
				accepted: 0,
				retryAfterMs: expect.any(Number)
			});
		});

		test('group commit: many rooms at once share statements', async () => {
			const r = replica();
			const rooms = await Promise.all(Array.from({ length: 20 }, () => newRoom()));
			const members = await Promise.all(rooms.map((id) => r.join(id, 'alice')));
			const before = r.hub.commitStats.batches;
			await Promise.all(members.map((m, i) => m.receive(command(`g${i}`, 'batch me'))));
			await waitFor('all acked', () => members.every((m) => m.of('ack').length === 1));
			const statements = r.hub.commitStats.batches - before;
			expect(statements).toBeLessThan(20);
		});

		test('two replicas: members on either see the same events in the same order; races resolve', async () => {
			const network = createLocalNetwork();
			const a = replica(network.createBus('replica-a'));
			const b = replica(network.createBus('replica-b'));
			const roomId = await newRoom();
			const onA = await a.join(roomId, 'alice');
			const onB = await b.join(roomId, 'bob');
			const sends: Promise<void>[] = [];
			for (let i = 0; i < 25; i++) {
				sends.push(onA.receive(command(`a${i}`, `from a ${i}`)));
				sends.push(onB.receive(command(`b${i}`, `from b ${i}`)));
			}
			await Promise.all(sends);
			await waitFor(
				'all acked',
				() => onA.of('ack').length === 25 && onB.of('ack').length === 25,
				15_000
			);
			await waitFor(
				'all delivered',
				() => onA.events().length === 50 && onB.events().length === 50
			);
			const log = (await a.store.readEvents(roomId, 0)).map((e) => e.seq);
			expect(log).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
			expect(onA.events().map((e) => e.seq)).toEqual(log);
			expect(onB.events().map((e) => e.seq)).toEqual(log);
			expect(onA.events().map((e) => e.cid)).toEqual(onB.events().map((e) => e.cid));
			expect(a.metrics.conflicts + b.metrics.conflicts).toBeGreaterThan(0);
			expect(onB.of('presence').at(-1)!.actors).toEqual(['alice', 'bob']);
		});

		test('a replica cut off from the bus catches up from the log when it heals', async () => {
			const network = createLocalNetwork();
			const a = replica(network.createBus('cut-a'));
			const b = replica(network.createBus('cut-b'));
			const roomId = await newRoom();
			const onA = await a.join(roomId, 'alice');
			const onB = await b.join(roomId, 'bob');
			network.partition('cut-b', true);
			for (let i = 0; i < 5; i++) await onA.receive(command(`p${i}`, `during outage ${i}`));
			await waitFor('acks', () => onA.of('ack').length === 5);
			await Bun.sleep(20);
			expect(onB.events()).toHaveLength(0);
			network.partition('cut-b', false);
			await waitFor('bob caught up', () => onB.events().length === 5);
			expect(onB.events().map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
		});

		test('the store refuses a duplicate client id atomically and finds its seq', async () => {
			const store = new EventStore(db);
			const roomId = await newRoom();
			const other = await newRoom();
			const first = await store.appendBatch([
				{
					roomId,
					expectedHead: 0,
					events: [{ actor: 'alice', name: 'chat.sent', payload: {}, clientId: 'dup' }]
				}
			]);
			expect(first[0]).toMatchObject({ ok: true });
			// The same id again, batched with another room's valid append: only the duplicate fails.
			const results = await store.appendBatch([
				{
					roomId,
					expectedHead: 1,
					events: [{ actor: 'alice', name: 'chat.sent', payload: {}, clientId: 'dup' }]
				},
				{
					roomId: other,
					expectedHead: 0,
					events: [{ actor: 'bob', name: 'chat.sent', payload: {}, clientId: 'dup' }]
				}
			]);
			expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['duplicate', 'ok']);
			expect(await store.readEvents(roomId, 0)).toHaveLength(1);
			const found = await store.findCommittedSeqs(roomId, [
				{ actor: 'alice', clientId: 'dup' },
				{ actor: 'bob', clientId: 'dup' }
			]);
			expect([...found.values()]).toEqual([1]);
			// A stale head is a conflict, and nothing is written.
			const stale = await store.appendBatch([
				{
					roomId,
					expectedHead: 0,
					events: [{ actor: 'alice', name: 'chat.sent', payload: {}, clientId: 'late' }]
				}
			]);
			expect(stale[0]).toEqual({ ok: false, reason: 'conflict' });
			expect((await store.findRoom(roomId))?.headSeq).toBe(1);
		});

		test('revoked experimenter sessions lose their sockets', async () => {
			const r = replica();
			const roomId = await newRoom();
			const lead = r.connect(roomId, 'u:lead', 'experimenter', 'session-1');
			await lead.receive({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 });
			const other = r.connect(roomId, 'u:other', 'experimenter', 'session-2');
			expect([...r.hub.sessionIds()].sort()).toEqual(['session-1', 'session-2']);
			expect(r.hub.closeSessions(new Set(['session-1']))).toBe(1);
			expect(lead.closed?.code).toBe(CloseCode.Unauthorized);
			expect(other.closed).toBeUndefined();
		});
	});
}
