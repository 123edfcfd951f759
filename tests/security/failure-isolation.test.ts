import { afterAll, beforeAll, describe, expect, setDefaultTimeout, spyOn, test } from 'bun:test';
import { and, eq } from 'drizzle-orm';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import type { Database } from '../../src/lib/server/db/database';
import { roomEvents, telemetrySamples } from '../../src/lib/server/db/schema';
import { createLocalNetwork } from '../../src/lib/server/realtime/bus/local';
import { EventStore } from '../../src/lib/server/realtime/event-store';
import { RealtimeMetrics } from '../../src/lib/server/realtime/metrics';
import { TelemetryWriter } from '../../src/lib/server/realtime/telemetry-writer';
import { databaseTargets, type TestDatabase } from '../support/databases';
import { Replica, waitFor } from '../support/realtime';
import { uniqueId } from '../support/room-seed';

/**
 * A bad input hurts only its sender (issue 14, item 1). What the boundaries let through can
 * still be refused by the database (a NUL in `jsonb`, say); a group commit or a telemetry flush
 * that carries it is split until the offender stands alone, and everything else is stored.
 * These tests put such content past the boundaries on purpose, straight into the writers.
 */
setDefaultTimeout(60_000);

const POISON = 'poison \u0000 text';

/** Everything written to stderr/stdout by the app's logger while `run` runs. */
async function captureLogs(run: () => Promise<void>): Promise<string> {
	const lines: string[] = [];
	const error = spyOn(console, 'error').mockImplementation((line: unknown) => {
		lines.push(String(line));
	});
	const info = spyOn(console, 'log').mockImplementation((line: unknown) => {
		lines.push(String(line));
	});
	try {
		await run();
	} finally {
		error.mockRestore();
		info.mockRestore();
	}
	return lines.join('\n');
}

for (const target of databaseTargets('failure isolation tests')) {
	describe.skipIf(!target.available)(`failure isolation on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		let store: EventStore;

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
			store = new EventStore(db);
		});
		afterAll(async () => {
			await database?.dispose();
		});

		const newRoom = async () => {
			const id = uniqueId('room');
			await store.createRoom(id, 'sandbox');
			return id;
		};
		const event = (text: string, clientId?: string) => ({
			actor: 'alice',
			name: 'chat.sent',
			payload: { text },
			clientId
		});

		test('a group commit with one unstorable room appends every other room', async () => {
			const roomIds = await Promise.all(Array.from({ length: 7 }, () => newRoom()));
			const poisoned = roomIds[3]!;
			const results = await store.appendBatch(
				roomIds.map((roomId) => ({
					roomId,
					expectedHead: 0,
					events: [event(roomId === poisoned ? POISON : `hello ${roomId}`)]
				}))
			);
			expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual([
				'ok',
				'ok',
				'ok',
				'refused',
				'ok',
				'ok',
				'ok'
			]);
			for (const roomId of roomIds) {
				const rows = await store.readEvents(roomId, 0);
				expect(rows).toHaveLength(roomId === poisoned ? 0 : 1);
				expect((await store.findRoom(roomId))!.headSeq).toBe(roomId === poisoned ? 0 : 1);
			}
		});

		test("through the hub: only the poisoned command's sender is refused; nobody is disconnected", async () => {
			const replica = new Replica(db, createLocalNetwork().createBus(uniqueId('replica')));
			try {
				const [sameRoom, otherRoom] = [await newRoom(), await newRoom()];
				const join = async (roomId: string, actor: string) => {
					const connection = replica.connect(roomId, actor);
					await connection.receive({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 });
					return connection;
				};
				const bob = await join(sameRoom, 'bob');
				const carol = await join(otherRoom, 'carol');
				// The poisoned command and good ones from the same room and another room, all at
				// once, so they share a room batch and a group commit. (A server-side submit is
				// used because the protocol's own check would refuse the text at the socket.)
				const logs = await captureLogs(async () => {
					const poisoned = replica.hub.submitCommandAs(
						sameRoom,
						{ id: 'mallory', role: 'participant' },
						'chat.send',
						{ text: POISON },
						'bad-1'
					);
					await Promise.all([
						bob.receive({
							type: 'command',
							id: 'b1',
							name: 'chat.send',
							payload: { text: 'from bob' }
						}),
						carol.receive({
							type: 'command',
							id: 'c1',
							name: 'chat.send',
							payload: { text: 'from carol' }
						})
					]);
					expect(await poisoned).toMatchObject({ ok: false, reason: 'unstorable' });
					await waitFor('acks', () => bob.of('ack').length === 1 && carol.of('ack').length === 1);
				});
				expect(bob.closed).toBeUndefined();
				expect(carol.closed).toBeUndefined();
				expect((await store.readEvents(sameRoom, 0)).map((e) => e.cid)).toEqual(['b1']);
				expect((await store.readEvents(otherRoom, 0)).map((e) => e.cid)).toEqual(['c1']);
				expect(replica.metrics.commandsUnstorable).toBe(1);
				// Over the socket the same text never gets that far: the frame is refused and counted.
				await bob.receive({
					type: 'command',
					id: 'b2',
					name: 'chat.send',
					payload: { text: POISON }
				});
				expect(bob.of('rejected').at(-1)).toMatchObject({ id: 'b2', reason: 'invalid_message' });
				expect(replica.metrics.framesRefused).toBe(1);
				// The log (rate-limited: see log-throttle.test.ts) never shows the content or the
				// query's parameters.
				expect(logs).not.toContain('poison');
				expect(logs).not.toContain('params');
			} finally {
				await replica.hub.shutdown();
			}
		});

		test('a telemetry flush with one unstorable sample stores every other sample, once', async () => {
			const metrics = new RealtimeMetrics();
			const writer = new TelemetryWriter(db, metrics, { batchSize: 1_000 });
			const [goodRoom, badRoom] = [await newRoom(), await newRoom()];
			const refusals: number[] = [];
			const sample = (id: string, value: unknown) => ({ id, kind: 'video.rating', t: 1, value });
			writer.enqueue(
				goodRoom,
				'alice',
				Array.from({ length: 300 }, (_, i) => sample(`g${i}`, i)),
				Date.now()
			);
			writer.enqueue(
				badRoom,
				'mallory',
				[sample('ok-1', 1), sample('bad', { note: POISON }), sample('ok-2', 2)],
				Date.now(),
				(refused) => refusals.push(refused)
			);
			const logs = await captureLogs(() => writer.flush());
			expect(writer.queued).toBe(0);
			expect(refusals).toEqual([1]);
			expect(metrics.telemetryUnstorable).toBe(1);
			expect(metrics.telemetryWritten).toBe(302);
			const stored = async (roomId: string) =>
				(
					await db
						.select({ id: telemetrySamples.sampleId })
						.from(telemetrySamples)
						.where(eq(telemetrySamples.roomId, roomId))
				).map((row) => row.id);
			expect(await stored(goodRoom)).toHaveLength(300);
			expect((await stored(badRoom)).sort()).toEqual(['ok-1', 'ok-2']);
			expect(logs).not.toContain('poison');
			expect(logs).not.toContain('mallory');
			// Nothing is left to retry: the next flush writes nothing and logs nothing.
			const again = await captureLogs(() => writer.flush());
			expect(again).toBe('');
			await writer.stop();
		});

		test('an unreachable database is retried with a growing pause, its samples kept within the bound', async () => {
			const metrics = new RealtimeMetrics();
			let attempts = 0;
			const down = {
				insert: () => ({
					values: () => ({
						onConflictDoNothing: async () => {
							attempts++;
							throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
						}
					})
				})
			} as unknown as Database;
			let clock = 0;
			const writer = new TelemetryWriter(down, metrics, {
				flushIntervalMs: 100,
				maxBackoffMs: 1_000,
				maxQueue: 10,
				now: () => clock
			});
			expect(writer.enqueue('r', 'a', [{ id: '1', kind: 'k', t: 0, value: 1 }], 0)).toEqual({
				accepted: 1
			});
			await captureLogs(async () => {
				for (clock = 0; clock <= 10_000; clock += 100) await writer.flush();
			});
			// 0.2, 0.4, 0.8, then every 1 s: about a dozen attempts in 10 s, not one per tick.
			expect(attempts).toBeGreaterThan(5);
			expect(attempts).toBeLessThan(20);
			expect(writer.queued).toBe(1);
			const refused = writer.enqueue(
				'r',
				'a',
				Array.from({ length: 10 }, (_, i) => ({ id: `x${i}`, kind: 'k', t: 0, value: i })),
				clock
			);
			expect(refused).toMatchObject({ accepted: 0 });
		});

		test('a retried client id in a group commit is found without failing the others', async () => {
			const [first, second] = [await newRoom(), await newRoom()];
			await store.appendBatch([{ roomId: first, expectedHead: 0, events: [event('x', 'dup')] }]);
			const results = await store.appendBatch([
				{ roomId: first, expectedHead: 1, events: [event('again', 'dup')] },
				{ roomId: second, expectedHead: 0, events: [event('fine', 'c2')] }
			]);
			expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['duplicate', 'ok']);
			const rows = await db
				.select()
				.from(roomEvents)
				.where(and(eq(roomEvents.roomId, second), eq(roomEvents.clientId, 'c2')));
			expect(rows).toHaveLength(1);
		});
	});
}
