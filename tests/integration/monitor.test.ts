import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { eq } from 'drizzle-orm';
import type { MonitorRoom, MonitorServerMessage } from '../../src/lib/monitor';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import type { SessionUser } from '../../src/lib/server/auth/sessions';
import type { Database } from '../../src/lib/server/db/database';
import {
	participants,
	roomMembers,
	rooms,
	studies,
	studyVersions,
	users
} from '../../src/lib/server/db/schema';
import {
	formGroupManually,
	installStudyDoorbell,
	MonitorHub,
	MonitorRelay,
	runMonitorCommand,
	StudyFeed,
	type MonitorAuth,
	type MonitorConnection
} from '../../src/lib/server/monitor';
import { createRedisBus, type Bus } from '../../src/lib/server/realtime/bus';
import { createLocalNetwork, type LocalNetwork } from '../../src/lib/server/realtime/bus/local';
import { createStudyRoomServices } from '../../src/lib/server/rooms/study-rooms';
import { createQuestionItem, type StudyDefinition } from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';
import { FakeConnection, Replica, waitFor } from '../support/realtime';
import { requireService } from '../support/services';
import { makeStage, makeStudy } from '../support/room-study';

// The live monitor on real databases, without sockets: replicas on one bus network, rooms run by
// their hubs, and study monitors fed by the rooms' topics (other replicas), the local relay (the
// same replica) and the study feed (quality, doorbells). "Within 1 s" is measured, not assumed.
setDefaultTimeout(60_000);

let serial = 0;
const nextId = (prefix: string) =>
	`${prefix}-${++serial}-${Math.random().toString(36).slice(2, 8)}`;

const definition: StudyDefinition = makeStudy(
	[
		// Timed, so it is a group stage (an untimed questionnaire first would run before the room).
		makeStage('questionnaire', 'q', { advance: 'first', durationSeconds: 600 }),
		makeStage('chat', 'talk', { advance: 'first', durationSeconds: 600 })
	],
	(study) => {
		const questions = study.stages[0]!;
		// A text item too, so a test can look for the answer's words on the dashboards' sockets.
		if (questions.type === 'questionnaire') {
			questions.content.items.push({
				...createQuestionItem('short_text', ['q']),
				id: 'note',
				required: false
			});
		}
		study.settings.session = {
			mode: 'matched',
			groupSize: 2,
			minGroupSize: 2,
			lobbyTimeoutSeconds: 600
		};
		study.settings.conditions = {
			assignment: 'random',
			list: [{ id: 'warm', name: 'Warm' }]
		};
	}
);

/** A dashboard as the monitor hub sees it; records every frame. */
class FakeDashboard implements MonitorConnection {
	readonly id = nextId('dash');
	readonly frames: (MonitorServerMessage & { receivedAt: number })[] = [];
	closed: { code: number } | undefined;
	constructor(readonly auth: MonitorAuth) {}
	send(frame: string): void {
		this.frames.push({ ...(JSON.parse(frame) as MonitorServerMessage), receivedAt: Date.now() });
	}
	close(code: number): void {
		this.closed = { code };
	}
	/** The room as the latest frame that carried it shows it. */
	room(id: string): MonitorRoom | undefined {
		for (let i = this.frames.length - 1; i >= 0; i--) {
			const frame = this.frames[i]!;
			if (frame.type !== 'rooms' && frame.type !== 'snapshot') continue;
			const found = frame.rooms.find((room) => room.id === id);
			if (found) return found;
		}
		return undefined;
	}
	last<T extends MonitorServerMessage['type']>(type: T) {
		return this.frames.findLast((f) => f.type === type) as
			Extract<MonitorServerMessage, { type: T }> | undefined;
	}
}

type Node = { name: string; bus: Bus; replica: Replica; monitors: MonitorHub; feed: StudyFeed };

const redis = requireService('TEST_REDIS_URL', 'the study monitor over Redis');
const run = Date.now().toString(36);

for (const target of databaseTargets('study monitor tests')) {
	describe.skipIf(!target.available)(`the study monitor on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		const nodes: Node[] = [];
		let owner: SessionUser;

		const node = (network: LocalNetwork | 'redis'): Node => {
			const name = nextId('replica');
			const bus =
				network === 'redis'
					? createRedisBus({ url: redis.available ? redis.url : '', replicaId: `${run}-${name}` })
					: network.createBus(name);
			const feed = new StudyFeed(bus);
			const replica = new Replica(db, bus, {
				studyRooms: createStudyRoomServices(db),
				monitor: new MonitorRelay(feed, { relayMs: 50 }),
				presenceGraceMs: 300
			});
			const monitors = new MonitorHub({ db, store: replica.store, bus, feed, lingerMs: 50 });
			const created = { name, bus, replica, monitors, feed };
			nodes.push(created);
			return created;
		};
		const watch = (n: Node, studyId: string) => {
			const sessionId = nextId('session');
			const dashboard = new FakeDashboard({
				studyId,
				userId: owner.id,
				sessionId,
				access: 'owner',
				grant: {
					userId: owner.id,
					studyId,
					credential: { kind: 'session', id: sessionId },
					needs: 'edit'
				}
			});
			n.monitors.open(dashboard);
			return dashboard;
		};
		const join = async (r: Replica, roomId: string, actor: string): Promise<FakeConnection> => {
			const connection = r.connect(roomId, actor);
			await connection.receive({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 });
			return connection;
		};

		async function seedStudy(): Promise<string> {
			const studyId = nextId('s');
			const at = new Date();
			await db.insert(studies).values({
				id: studyId,
				slug: nextId('slug').replace(/-/g, ''),
				ownerId: owner.id,
				title: 'Monitor test',
				status: 'live',
				draft: definition,
				latestVersion: 1,
				createdAt: at,
				updatedAt: at
			});
			await db
				.insert(studyVersions)
				.values({ studyId, version: 1, definition, contentHash: 'test', publishedAt: at });
			return studyId;
		}

		async function addParticipants(
			studyId: string,
			count: number,
			status: 'waiting' | 'in_room',
			roomId: string | null = null
		): Promise<string[]> {
			const at = new Date();
			const ids = Array.from({ length: count }, () => nextId('p'));
			await db.insert(participants).values(
				ids.map((id, i) => ({
					id,
					studyId,
					version: 1,
					tokenHash: `hash-${id}`,
					status,
					roomId,
					condition: roomId ? 'warm' : null,
					createdAt: at,
					lastSeenAt: at,
					waitingSince: new Date(at.getTime() - 1000 + i)
				}))
			);
			return ids;
		}

		async function seedRoom(studyId: string): Promise<{ roomId: string; ids: string[] }> {
			const roomId = nextId('room');
			await db.insert(rooms).values({ id: roomId, kind: 'study', studyId, studyVersion: 1 });
			const ids = await addParticipants(studyId, 2, 'in_room', roomId);
			await db.insert(roomMembers).values(
				ids.map((id, i) => ({
					roomId,
					participantId: id,
					role: null,
					condition: 'warm',
					joinedAt: new Date(Date.now() + i)
				}))
			);
			return { roomId, ids };
		}

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
			owner = {
				id: nextId('u'),
				email: `${nextId('o')}@monitor.test`,
				name: 'Owner',
				role: 'researcher'
			};
			await db.insert(users).values({ ...owner, passwordHash: 'not-used' });
		});
		afterAll(async () => {
			for (const n of nodes) {
				n.monitors.shutdown();
				await n.replica.hub.shutdown();
				await n.bus.close();
			}
			await database?.dispose();
		});

		test('snapshot, then each room change within 1 s, on the room’s replica and on another', async () => {
			const studyId = await seedStudy();
			const { roomId, ids } = await seedRoom(studyId);
			const network = createLocalNetwork();
			const [a, b] = [node(network), node(network)];
			const alice = await join(a.replica, roomId, ids[0]!);
			await join(a.replica, roomId, ids[1]!);

			const here = watch(a, studyId);
			const there = watch(b, studyId);
			await waitFor('snapshots', () => !!here.last('snapshot') && !!there.last('snapshot'));
			for (const dashboard of [here, there]) {
				const room = dashboard.last('snapshot')!.rooms.find((r) => r.id === roomId)!;
				expect(room.stage).toMatchObject({ index: 0, id: 'q', type: 'questionnaire' });
				expect(room.condition).toBe('warm');
				expect(room.members.map((m) => m.id)).toEqual(ids);
			}
			await waitFor('both connected', () =>
				[here, there].every((d) => d.room(roomId)?.members.every((m) => m.connected))
			);

			const sentAt = Date.now();
			await alice.receive({
				type: 'command',
				id: 'c1',
				name: 'stage.submit',
				payload: {
					stageId: 'q',
					response: { type: 'questionnaire', answers: { q: 5, note: 'secret answer' }, rtMs: 900 }
				}
			});
			const submitted = (d: FakeDashboard) =>
				d.room(roomId)?.members.find((m) => m.id === ids[0])?.submitted === true;
			await waitFor('the submit on both monitors', () => submitted(here) && submitted(there));
			for (const dashboard of [here, there]) {
				const frame = dashboard.frames.find(
					(f) => f.type === 'rooms' && f.rooms.some((r) => r.members[0]?.submitted)
				)!;
				expect(frame.receivedAt - sentAt).toBeLessThan(1_000);
				expect(dashboard.room(roomId)?.progress).toEqual({ submitted: 1, of: 2 });
			}
			// Answers never reach a dashboard.
			expect(JSON.stringify([here.frames, there.frames])).not.toContain('secret');

			// A second dashboard on the same replica shares the monitor and gets the same picture.
			const again = watch(b, studyId);
			await waitFor('second snapshot', () => !!again.last('snapshot'));
			expect(
				again.last('snapshot')!.rooms.find((r) => r.id === roomId)?.members[0]?.submitted
			).toBe(true);
		});

		test('interventions: advance, message, remove and end are attributed room events the monitor shows', async () => {
			const studyId = await seedStudy();
			const { roomId, ids } = await seedRoom(studyId);
			const network = createLocalNetwork();
			const [a, b] = [node(network), node(network)];
			const alice = await join(a.replica, roomId, ids[0]!);
			const bob = await join(a.replica, roomId, ids[1]!);
			const dashboard = watch(b, studyId);
			await waitFor('snapshot', () => !!dashboard.last('snapshot'));

			// The intervention runs on the replica the HTTP request reached: b, where the room is not loaded.
			const run = (name: string, payload: Record<string, unknown>, id = nextId('cmd')) =>
				runMonitorCommand(db, b.replica.hub, owner, studyId, roomId, {
					id,
					name: name as never,
					payload
				});
			const startedAt = Date.now();
			const advanced = await run('stage.advance', { fromStageId: 'q', force: true }, 'adv-1');
			expect(advanced.ok).toBe(true);
			await waitFor(
				'the advance on the monitor',
				() => dashboard.room(roomId)?.stage.id === 'talk'
			);
			expect(Date.now() - startedAt).toBeLessThan(1_000);
			// Retried with the same id: applied once, same seq.
			expect(await run('stage.advance', { fromStageId: 'q', force: true }, 'adv-1')).toEqual(
				advanced
			);

			expect(await run('room.message', { text: 'Hello, Bob.', memberId: ids[1] })).toMatchObject({
				ok: true
			});
			await waitFor('bob sees the message', () =>
				bob.frames.some(
					(f) =>
						f.type === 'view' &&
						'view' in f &&
						JSON.stringify((f as { view: unknown }).view).includes('Hello, Bob.')
				)
			);
			// Alice's socket got the event, but not the text of someone else's message.
			expect(JSON.stringify(alice.frames)).not.toContain('Hello, Bob.');

			expect(
				await run('member.remove', { memberId: ids[1], outcome: 'technical_error' })
			).toMatchObject({
				ok: true
			});
			await waitFor(
				'removal on the monitor',
				() => dashboard.room(roomId)?.members[1]?.outcome === 'technical_error'
			);
			await waitFor('the counts', () =>
				(dashboard.last('counts')?.counts ?? []).some(
					(c) => c.outcome === 'technical_error' && c.participants === 1
				)
			);
			const [row] = await db
				.select({ outcome: participants.outcome })
				.from(participants)
				.where(eq(participants.id, ids[1]!));
			expect(row?.outcome).toBe('technical_error');

			expect(await run('stage.advance', { fromStageId: 'q' })).toMatchObject({
				ok: false,
				reason: 'rejected',
				code: 'stale_advance'
			});
			expect(await run('room.end', { outcome: 'completed' })).toMatchObject({ ok: true });
			await waitFor(
				'finished on the monitor',
				() => dashboard.room(roomId)?.finished?.outcome === 'completed'
			);

			const log = await a.replica.store.readEvents(roomId, 0);
			const mine = log.filter((e) => e.actor === `u:${owner.id}`).map((e) => e.name);
			expect(mine).toEqual(
				expect.arrayContaining([
					'stage.advanced',
					'room.message',
					'member.removed',
					'room.finished'
				])
			);
			expect(log.filter((e) => e.name === 'stage.advanced')).toHaveLength(1);

			// Someone without access to the study reaches none of its rooms.
			const stranger: SessionUser = { ...owner, id: nextId('stranger'), role: 'researcher' };
			expect(
				await runMonitorCommand(db, b.replica.hub, stranger, studyId, roomId, {
					id: 'x',
					name: 'room.pause',
					payload: {}
				})
			).toEqual({ ok: false, reason: 'not_found' });
			expect(
				await runMonitorCommand(db, b.replica.hub, owner, studyId, 'room-of-another-study', {
					id: 'x',
					name: 'room.pause',
					payload: {}
				})
			).toEqual({ ok: false, reason: 'room_not_found' });
		});

		test('quality telemetry reaches monitors on every replica; a lost bus message is read from the log', async () => {
			const studyId = await seedStudy();
			const { roomId, ids } = await seedRoom(studyId);
			const network = createLocalNetwork();
			const [a, b] = [node(network), node(network)];
			const alice = await join(a.replica, roomId, ids[0]!);
			await join(a.replica, roomId, ids[1]!);
			const dashboard = watch(b, studyId);
			await waitFor('snapshot', () => !!dashboard.last('snapshot'));

			const sample = (id: string, errorMs: number) => ({
				id,
				kind: 'sync.quality',
				t: Date.now(),
				value: {
					stageId: 'q',
					errorMs,
					rate: 1,
					offsetMs: -42,
					rttMs: 20,
					uncertaintyMs: 3,
					phase: 'locked',
					seeks: 0
				}
			});
			await alice.receive({ type: 'telemetry', samples: [sample('s1', 8), sample('s2', -12)] });
			await waitFor('quality on the other replica', () => {
				const sync = dashboard.room(roomId)?.members[0]?.quality.sync;
				return sync?.offsetMs === -42 && sync.errorP50Ms === 8;
			});

			// The bus drops what b would have heard; its recovery makes the monitor read the log.
			network.partition(b.name, true);
			await alice.receive({
				type: 'command',
				id: 'c-lost',
				name: 'stage.submit',
				payload: { stageId: 'q', response: { type: 'questionnaire', answers: { q: 1 }, rtMs: 900 } }
			});
			await Bun.sleep(100);
			expect(dashboard.room(roomId)?.members[0]?.submitted).toBe(false);
			network.partition(b.name, false);
			await waitFor(
				'caught up after the outage',
				() => dashboard.room(roomId)?.members[0]?.submitted === true
			);
		});

		test.skipIf(!redis.available)(
			'over Redis: room events, quality and doorbells reach a monitor on another replica',
			async () => {
				const studyId = await seedStudy();
				const { roomId, ids } = await seedRoom(studyId);
				const [a, b] = [node('redis'), node('redis')];
				await waitFor('both buses', () => a.bus.status().healthy && b.bus.status().healthy);
				const alice = await join(a.replica, roomId, ids[0]!);
				await join(a.replica, roomId, ids[1]!);
				const dashboard = watch(b, studyId);
				await waitFor('snapshot', () => !!dashboard.last('snapshot'));
				// SUBSCRIBE is asynchronous on Redis: a change now may predate it, then the heartbeat
				// or the log catches it; the measured change below comes after the subscription.
				await Bun.sleep(200);

				const sentAt = Date.now();
				await alice.receive({
					type: 'command',
					id: 'r1',
					name: 'stage.submit',
					payload: {
						stageId: 'q',
						response: { type: 'questionnaire', answers: { q: 1 }, rtMs: 900 }
					}
				});
				await waitFor(
					'the submit over Redis',
					() => dashboard.room(roomId)?.members[0]?.submitted === true
				);
				expect(Date.now() - sentAt).toBeLessThan(1_000);

				await alice.receive({
					type: 'telemetry',
					samples: [
						{
							id: 'av1',
							kind: 'av.quality',
							t: Date.now(),
							value: { stageId: 'q', connectionQuality: 'poor', tracks: [] }
						}
					]
				});
				await waitFor(
					'quality over Redis',
					() => dashboard.room(roomId)?.members[0]?.quality.av?.connection === 'poor'
				);

				await addParticipants(studyId, 1, 'waiting');
				a.feed.publish(studyId, { k: 'changed' });
				await waitFor(
					'the doorbell over Redis',
					() => dashboard.last('waiting')?.waiting.waiters.length === 1
				);
			}
		);

		test('the doorbell: waiting-room changes and manual matching reach the monitor', async () => {
			const studyId = await seedStudy();
			const network = createLocalNetwork();
			const [a, b] = [node(network), node(network)];
			const remove = installStudyDoorbell((id) => a.feed.publish(id, { k: 'changed' }));
			try {
				const dashboard = watch(b, studyId);
				await waitFor('snapshot', () => !!dashboard.last('snapshot'));
				expect(dashboard.last('snapshot')!.waiting.waiters).toEqual([]);

				const waiting = await addParticipants(studyId, 3, 'waiting');
				a.feed.publish(studyId, { k: 'changed' });
				await waitFor(
					'three waiting',
					() => dashboard.last('waiting')?.waiting.waiters.length === 3
				);
				const shown = dashboard.last('waiting')!.waiting;
				expect(shown.waiters.map((w) => w.id)).toEqual(waiting);
				expect(shown.versions).toEqual([
					expect.objectContaining({ version: 1, mode: 'matched', waiting: 3, groupSize: 2 })
				]);

				// Manual match: a group of the two chosen, under the study's lock, which rings the doorbell.
				const chosen = [waiting[2]!, waiting[0]!];
				const startedAt = Date.now();
				const matched = await formGroupManually(
					db,
					owner,
					studyId,
					{ participantIds: chosen },
					new Date()
				);
				if (!matched.ok) throw new Error(`manual match failed: ${matched.reason}`);
				const [first, , third] = waiting as [string, string, string];
				expect(matched.group.members.map((m) => m.participantId)).toEqual([first, third]);
				expect(matched.group.condition).toBe('warm');
				await waitFor(
					'the new room and one left waiting',
					() =>
						!!dashboard.room(matched.group.roomId) &&
						dashboard.last('waiting')?.waiting.waiters.length === 1
				);
				expect(Date.now() - startedAt).toBeLessThan(1_000);
				expect(dashboard.room(matched.group.roomId)?.members.map((m) => m.id)).toEqual([
					first,
					third
				]);

				// The same people again: they are no longer waiting.
				expect(
					await formGroupManually(db, owner, studyId, { participantIds: chosen }, new Date())
				).toEqual({ ok: false, reason: 'not_waiting', participantIds: chosen });
				const placed = await db
					.select({ id: roomMembers.participantId })
					.from(roomMembers)
					.where(eq(roomMembers.roomId, matched.group.roomId));
				expect(placed).toHaveLength(2);
			} finally {
				remove();
			}
		});
	});
}
