import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Database } from '../../src/lib/server/db/database';
import { createRedisBus, type RedisBus } from '../../src/lib/server/realtime/bus';
import { EventStore } from '../../src/lib/server/realtime/event-store';
import { databaseTargets, type TestDatabase } from '../support/databases';
import { command, Replica, waitFor, type FakeConnection } from '../support/realtime';
import { findRedisServer, startPrivateRedis, type PrivateRedis } from '../support/redis';
import { requireService } from '../support/services';

// Two replicas (hubs in one process) sharing a database and a real Redis.
setDefaultTimeout(60_000);

const redis = requireService('TEST_REDIS_URL', 'realtime over Redis');
const redisServer = findRedisServer();
const run = Date.now().toString(36);
let counter = 0;

/** Checks one member's delivered events against the log: nothing lost, doubled or reordered. */
function expectExactLedger(member: FakeConnection, log: number[]) {
	expect(member.events().map((e) => e.seq)).toEqual(log);
}

for (const target of databaseTargets('realtime over Redis')) {
	describe.skipIf(!target.available || !redis.available)(
		`two replicas over Redis on ${target.name}`,
		() => {
			let database: TestDatabase;
			let db: Database;
			const buses: RedisBus[] = [];
			const replicas: Replica[] = [];

			const pair = (url: string) => {
				const made = ['a', 'b'].map((name) => {
					const bus = createRedisBus({
						url,
						replicaId: `${run}-${name}-${++counter}`,
						canaryIntervalMs: 300,
						canaryTimeoutMs: 500
					});
					buses.push(bus);
					const replica = new Replica(db, bus);
					replicas.push(replica);
					return replica;
				});
				return made as [Replica, Replica];
			};
			const newRoom = async () => {
				const id = `redis-${run}-${++counter}`;
				await new EventStore(db).createRoom(id, 'sandbox');
				return id;
			};

			beforeAll(async () => {
				database = await target.create();
				db = database.handle.db;
			});
			afterAll(async () => {
				for (const replica of replicas) await replica.hub.shutdown();
				for (const bus of buses) await bus.close();
				await database?.dispose();
			});

			test('members on different replicas see the same events in the same order', async () => {
				const [a, b] = pair(redis.available ? redis.url : '');
				await waitFor('buses healthy', () => buses.every((bus) => bus.status().healthy), 10_000);
				const roomId = await newRoom();
				const alice = await a.join(roomId, 'alice');
				const bob = await b.join(roomId, 'bob');
				const carol = await b.join(roomId, 'carol');
				for (let i = 0; i < 30; i++) {
					await (i % 2 ? alice : bob).receive(command(`c${i}`, `message ${i}`));
				}
				await waitFor('acks', () => alice.of('ack').length === 15 && bob.of('ack').length === 15);
				const log = (await a.store.readEvents(roomId, 0)).map((e) => e.seq);
				expect(log).toHaveLength(30);
				await waitFor('delivery', () => [alice, bob, carol].every((m) => m.events().length === 30));
				for (const member of [alice, bob, carol]) expectExactLedger(member, log);
				// Cross-replica delivery came through the bus, not only from catching up.
				expect(a.metrics.busMessagesIn + b.metrics.busMessagesIn).toBeGreaterThan(0);
			});

			describe.skipIf(!redisServer)('Redis restarted mid-stream', () => {
				let privateRedis: PrivateRedis;
				afterAll(() => privateRedis?.remove());

				test('nothing is lost, nothing doubles, nothing crashes', async () => {
					privateRedis = await startPrivateRedis(redisServer!);
					const [a, b] = pair(privateRedis.url);
					await waitFor(
						'buses healthy',
						() => buses.slice(-2).every((bus) => bus.status().healthy),
						10_000
					);
					const roomId = await newRoom();
					const onA = await a.join(roomId, 'alice');
					const onB = await b.join(roomId, 'bob');
					let sent = 0;
					const stream = async (ms: number) => {
						const end = Date.now() + ms;
						while (Date.now() < end) {
							await onA.receive(command(`a${sent}`, 'x'));
							await onB.receive(command(`b${sent}`, 'y'));
							sent++;
							await Bun.sleep(20);
						}
					};
					await stream(500);
					await privateRedis.kill();
					await stream(800);
					await waitFor(
						'outage noticed',
						() => buses.slice(-2).some((bus) => !bus.status().healthy),
						5_000
					);
					await privateRedis.start();
					await stream(500);
					await waitFor(
						'all acked',
						() => onA.of('ack').length === sent && onB.of('ack').length === sent,
						15_000
					);
					const log = (await a.store.readEvents(roomId, 0)).map((e) => e.seq);
					expect(log).toHaveLength(sent * 2);
					await waitFor(
						'everyone caught up',
						() => onA.events().length === log.length && onB.events().length === log.length,
						15_000
					);
					expectExactLedger(onA, log);
					expectExactLedger(onB, log);
					await waitFor(
						'buses healthy again',
						() => buses.slice(-2).every((bus) => bus.status().healthy),
						10_000
					);
				});
			});
		}
	);
}
