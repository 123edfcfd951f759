import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	setDefaultTimeout,
	test
} from 'bun:test';
import { eq, sql } from 'drizzle-orm';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import type { Database } from '../../src/lib/server/db/database';
import { participants, rooms } from '../../src/lib/server/db/schema';
import { createLocalNetwork, type LocalNetwork } from '../../src/lib/server/realtime/bus/local';
import { EventStore } from '../../src/lib/server/realtime/event-store';
import { timeOutGhosts } from '../../src/lib/server/matching/ghosts';
import { markReplicaAlive, startReplicaHeartbeat } from '../../src/lib/server/rooms/replicas';
import { createStudyRoomServices } from '../../src/lib/server/rooms/study-rooms';
import { claimDueRooms, startRoomSweeper } from '../../src/lib/server/rooms/sweeper';
import type { DropoutPolicy, StudyDefinition } from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';
import { FakeConnection, Replica, waitFor } from '../support/realtime';
import { seedStudyRoom, uniqueId } from '../support/room-seed';
import { makeStage, makeStudy } from '../support/room-study';

/**
 * No room waits forever (issue 14, item 6): rooms nobody has loaded any more — every member
 * closed the tab, the replica holding them died and nobody came back, nobody ever connected —
 * still reach their outcomes, on their own deadlines, by the sweeper. Replicas are hubs in one
 * process on a real database; a "killed" replica is frozen (its database writes hang, its bus
 * is cut, its heartbeat stops) so it can neither act nor be heard, as after `kill -9`.
 */
setDefaultTimeout(60_000);

const GRACE_MS = 400;
const COUNTDOWN_S = 2;
const pauseThenEnd: DropoutPolicy = {
	policy: 'pause',
	countdownSeconds: COUNTDOWN_S,
	then: 'end'
};

function chatStudy(dropout: DropoutPolicy): StudyDefinition {
	return makeStudy([
		makeStage('chat', 'talk', { advance: 'experimenter', durationSeconds: null, dropout }),
		makeStage('end', 'end')
	]);
}

/**
 * An event store whose writes hang once frozen, as in a process that stopped mid-flight; thawing
 * fails them (so the frozen hub can be shut down at the end of the test).
 */
class FreezableStore extends EventStore {
	#frozen: (() => void)[] | null = null;
	freeze(): void {
		this.#frozen = [];
	}
	thaw(): void {
		for (const fail of this.#frozen ?? []) fail();
		this.#frozen = null;
	}
	#hang<T>(): Promise<T> {
		return new Promise<T>((_, reject) => this.#frozen!.push(() => reject(new Error('frozen'))));
	}
	override appendBatch(...args: Parameters<EventStore['appendBatch']>) {
		return this.#frozen ? this.#hang<never>() : super.appendBatch(...args);
	}
	override setWakeups(...args: Parameters<EventStore['setWakeups']>) {
		return this.#frozen ? this.#hang<void>() : super.setWakeups(...args);
	}
	override claimHosting(...args: Parameters<EventStore['claimHosting']>) {
		return this.#frozen ? this.#hang<void>() : super.claimHosting(...args);
	}
}

for (const target of databaseTargets('abandoned room tests')) {
	describe.skipIf(!target.available)(`no room waits forever on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		const stops: (() => unknown)[] = [];

		/** A replica with a short grace and quick reload; `live` also runs heartbeat and sweeper. */
		const replica = (network: LocalNetwork, options: { live: boolean }) => {
			const name = uniqueId('replica');
			const store = new FreezableStore(db);
			const created = new Replica(db, network.createBus(name), {
				store,
				studyRooms: createStudyRoomServices(db),
				presenceGraceMs: GRACE_MS,
				reconcileAfterMs: 200,
				idleRoomMs: 200,
				joinGraceMs: 1_500
			});
			stops.push(() => {
				store.thaw();
				return created.hub.shutdown();
			});
			if (options.live) {
				const stopBeat = startReplicaHeartbeat(db, name);
				const stopSweep = startRoomSweeper(db, (roomId) => created.hub.wakeRoom(roomId), {
					intervalMs: 100,
					graceMs: 100
				});
				stops.push(stopSweep, stopBeat);
			}
			return { replica: created, name, store };
		};
		/** Freezes a replica as `kill -9` would leave it: silent, inert, its heartbeat lapsing. */
		const kill = (network: LocalNetwork, victim: ReturnType<typeof replica>) => {
			victim.store.freeze();
			network.partition(victim.name, true);
		};
		const join = async (r: Replica, roomId: string, actor: string) => {
			const connection = r.connect(roomId, actor);
			await connection.receive({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 });
			return connection;
		};
		const outcomes = async (ids: string[]) => {
			const rows = await db
				.select({ id: participants.id, outcome: participants.outcome })
				.from(participants)
				.where(sql`${participants.id} in ${ids}`);
			return Object.fromEntries(rows.map((r) => [r.id, r.outcome]));
		};
		const waitForOutcomes = async (ids: string[], expected: Record<string, string | null>) => {
			const deadline = Date.now() + 20_000;
			let seen: Record<string, string | null> = {};
			while (Date.now() < deadline) {
				seen = await outcomes(ids);
				if (JSON.stringify(seen) === JSON.stringify(expected)) return Date.now();
				await Bun.sleep(50);
			}
			expect({ seen, log: await describeLog(ids) }).toEqual({ seen: expected, log: '' });
			return Date.now();
		};
		/** The room's log, for a failure message. */
		const describeLog = async (ids: string[]) => {
			const [row] = await db
				.select({ roomId: participants.roomId })
				.from(participants)
				.where(eq(participants.id, ids[0]!));
			const log = await new EventStore(db).readEvents(row!.roomId!, 0);
			return log
				.map((e) => `${e.seq} ${e.actor} ${e.name} ${JSON.stringify(e.payload)}`)
				.join('\n');
		};
		const allDropout = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, 'dropout']));
		const events = async (roomId: string) => new EventStore(db).readEvents(roomId, 0);

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
		});
		// Each story's replicas stop with it, so no sweeper of one story claims another's rooms.
		afterEach(async () => {
			for (const stop of stops.splice(0).reverse()) await stop();
		});
		afterAll(async () => {
			await database?.dispose();
		});

		test('every member closes the tab and the server restarts: the pause runs out and the room ends', async () => {
			const network = createLocalNetwork();
			const first = replica(network, { live: false });
			const { roomId, ids } = await seedStudyRoom(db, chatStudy(pauseThenEnd), 2);
			const members = await Promise.all(ids.map((id) => join(first.replica, roomId, id)));
			await waitFor(
				'both connected in the log',
				() => members[0]!.events().filter((e) => e.name === 'member.connection').length >= 2
			);
			const closedAt = Date.now();
			for (const member of members) member.drop();
			// Both disconnects are logged with their absence deadline, then the server goes away.
			for (let i = 0; i < 100; i++) {
				const logged = (await events(roomId)).filter(
					(e) =>
						e.name === 'member.connection' &&
						(e.payload as { absentAt?: number }).absentAt !== undefined
				);
				if (logged.length === 2) break;
				await Bun.sleep(20);
			}
			await first.replica.hub.shutdown();
			const [room] = await db.select().from(rooms).where(eq(rooms.id, roomId));
			expect(room!.wakeAt).not.toBeNull();

			const second = replica(network, { live: true });
			const endedAt = await waitForOutcomes(ids, allDropout(ids));
			// The countdown runs from when they left: ended within it, plus the sweeper's slack.
			expect(endedAt - closedAt).toBeLessThan(COUNTDOWN_S * 1000 + 3_000);
			expect(second.replica.metrics.eventsAppended).toBeGreaterThan(0);
			const names = (await events(roomId)).map((e) => e.name);
			expect(names).toContain('room.paused');
			expect(names.filter((n) => n === 'member.outcome')).toHaveLength(2);
			expect(names.at(-1)).toBe('room.finished');
		});

		test('the replica holding the room dies and nobody comes back: another takes it over and it ends', async () => {
			const network = createLocalNetwork();
			const doomed = replica(network, { live: false });
			await markReplicaAlive(db, doomed.name, Date.now());
			const { roomId, ids } = await seedStudyRoom(db, chatStudy(pauseThenEnd), 2);
			const members = await Promise.all(ids.map((id) => join(doomed.replica, roomId, id)));
			await waitFor(
				'both connected in the log',
				() => members[0]!.events().filter((e) => e.name === 'member.connection').length >= 2
			);
			const [hosted] = await db.select().from(rooms).where(eq(rooms.id, roomId));
			expect(hosted!.hostReplica).toBe(doomed.name);

			const killedAt = Date.now();
			kill(network, doomed);
			const survivor = replica(network, { live: true });
			await waitForOutcomes(ids, allDropout(ids));
			const took = Date.now() - killedAt;
			// Host lease (3 s) + sweep + reconcile + the countdown from the reconcile.
			expect(took).toBeLessThan(3_000 + 1_000 + COUNTDOWN_S * 1000 + 3_000);
			expect(survivor.replica.metrics.eventsAppended).toBeGreaterThan(0);
			const disconnects = (await events(roomId)).filter(
				(e) =>
					e.name === 'member.connection' &&
					!(e.payload as { connected: boolean }).connected &&
					e.actor === 'system'
			);
			expect(disconnects).toHaveLength(2);
		});

		test('one member of four leaves while their replica dies: the dropout policy runs as without a kill', async () => {
			const network = createLocalNetwork();
			const doomed = replica(network, { live: false });
			await markReplicaAlive(db, doomed.name, Date.now());
			const policy: DropoutPolicy = { policy: 'continue', minMembers: 2 };
			const { roomId, ids } = await seedStudyRoom(db, chatStudy(policy), 4);
			const members = await Promise.all(ids.map((id) => join(doomed.replica, roomId, id)));
			await waitFor(
				'all connected in the log',
				() => members[0]!.events().filter((e) => e.name === 'member.connection').length >= 4
			);
			kill(network, doomed);
			// Three come back through the balancer to another replica; the fourth never does.
			const survivor = replica(network, { live: true });
			const back: FakeConnection[] = [];
			for (const id of ids.slice(0, 3)) back.push(await join(survivor.replica, roomId, id));
			await waitForOutcomes(ids, {
				[ids[0]!]: null,
				[ids[1]!]: null,
				[ids[2]!]: null,
				[ids[3]!]: 'dropout'
			});
			const view = back[0]!.of('view').at(-1) as { view?: { finished: boolean } } | undefined;
			expect(view?.view?.finished).toBe(false);
		});

		test('nobody ever connects to a formed room: the join grace passes and the room ends', async () => {
			const network = createLocalNetwork();
			replica(network, { live: true });
			const { roomId, ids } = await seedStudyRoom(db, chatStudy({ policy: 'end' }), 2, {
				// As formation stores it: due at once, for whoever loads the room first.
				wakeAt: new Date()
			});
			await waitForOutcomes(ids, allDropout(ids));
			const names = (await events(roomId)).map((e) => e.name);
			expect(names.filter((n) => n === 'member.presence')).toHaveLength(1);
			expect(names.at(-1)).toBe('room.finished');
		});

		test('a waiter whose tab closed gets lobby_timeout when their lobby would have timed out', async () => {
			const definition = chatStudy({ policy: 'end' });
			definition.settings.session = {
				mode: 'matched',
				groupSize: 2,
				minGroupSize: 2,
				lobbyTimeoutSeconds: 60
			};
			const { studyId } = await seedStudyRoom(db, definition, 0);
			const now = Date.now();
			const ghost = (id: string, waitedMs: number, status: 'left' | 'waiting' = 'left') => ({
				id,
				studyId,
				version: 1,
				tokenHash: `hash-${id}`,
				status,
				createdAt: new Date(now - waitedMs),
				lastSeenAt: new Date(now - waitedMs + 1_000),
				waitingSince: new Date(now - waitedMs)
			});
			const [due, early, back] = [uniqueId('p'), uniqueId('p'), uniqueId('p')];
			await db
				.insert(participants)
				.values([ghost(due, 61_000), ghost(early, 30_000), ghost(back, 61_000, 'waiting')]);
			const given = await timeOutGhosts(db, new Date(now));
			expect(given).toEqual([{ participantId: due, outcome: 'lobby_timeout' }]);
			const rows = await db
				.select({ id: participants.id, outcome: participants.outcome, status: participants.status })
				.from(participants)
				.where(sql`${participants.id} in ${[due, early, back]}`);
			const byId = Object.fromEntries(rows.map((r) => [r.id, `${r.outcome}/${r.status}`]));
			expect(byId).toEqual({
				[due]: 'lobby_timeout/finished',
				[early]: 'null/left',
				[back]: 'null/waiting'
			});
			// Given once: a second pass finds nothing more to do.
			expect(await timeOutGhosts(db, new Date(now))).toEqual([]);
		});

		test('exactly one replica claims a due room', async () => {
			const { roomId } = await seedStudyRoom(db, chatStudy({ policy: 'end' }), 1, {
				wakeAt: new Date(Date.now() - 5_000)
			});
			const options = { graceMs: 0, leaseMs: 30_000, batch: 50 };
			const claims = await Promise.all(
				Array.from({ length: 6 }, () => claimDueRooms(db, Date.now(), options))
			);
			expect(claims.flat().filter((id) => id === roomId)).toHaveLength(1);
		});
	});
}
