import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { and, eq, sql } from 'drizzle-orm';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import type { Database } from '../../src/lib/server/db/database';
import { participants, roomEvents, stageResponses } from '../../src/lib/server/db/schema';
import { createLocalNetwork } from '../../src/lib/server/realtime/bus/local';
import { createStudyRoomServices } from '../../src/lib/server/rooms/study-rooms';
import type { Stage, StudyDefinition } from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';
import { FakeConnection, Replica, waitFor } from '../support/realtime';
import { makeStage, makeStudy } from '../support/room-study';
import { seedStudyRoom } from '../support/room-seed';

// Study rooms run by the hub (no sockets) on real databases: two replicas on one bus, each
// with its own timers, and the rows derived from the log checked in the database.
setDefaultTimeout(60_000);

let serial = 0;
const nextId = (prefix: string) =>
	`${prefix}-${++serial}-${Math.random().toString(36).slice(2, 8)}`;

/** The dyad study: timed instructions, a questionnaire, a group choice, the end. */
function dyadStudy(dropout: Stage['dropout']): StudyDefinition {
	const stages = [
		makeStage('instructions', 'intro', { advance: 'timer', durationSeconds: 1 }),
		makeStage('questionnaire', 'q1', { advance: 'all_submitted', durationSeconds: null }),
		makeStage('group_choice', 'pick', { advance: 'all_submitted', durationSeconds: null }),
		makeStage('end', 'end')
	];
	for (const stage of stages) stage.dropout = dropout;
	return makeStudy(stages);
}

type View = {
	stage: { id: string } | null;
	youSubmitted: boolean;
	finished: boolean;
	paused: unknown;
	outcome: string | null;
};
function lastView(connection: FakeConnection): View | undefined {
	const views = connection.frames.filter((f) => f.type === 'view');
	const last = views.at(-1) as { view?: View } | undefined;
	return last?.view;
}
const onStage = (c: FakeConnection, stageId: string) => lastView(c)?.stage?.id === stageId;

for (const target of databaseTargets('study room tests')) {
	describe.skipIf(!target.available)(`study rooms on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		const replicas: Replica[] = [];
		const replica = (network = createLocalNetwork(), name = nextId('replica'), graceMs = 300) => {
			const created = new Replica(db, network.createBus(name), {
				studyRooms: createStudyRoomServices(db),
				presenceGraceMs: graceMs
			});
			replicas.push(created);
			return created;
		};
		const join = async (r: Replica, roomId: string, actor: string) => {
			const connection = r.connect(roomId, actor);
			await connection.receive({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 });
			return connection;
		};
		const send = (c: FakeConnection, id: string, name: string, payload: unknown) =>
			c.receive({ type: 'command', id, name, payload });
		const outcomes = async (ids: string[]) => {
			const rows = await db
				.select({ id: participants.id, outcome: participants.outcome, status: participants.status })
				.from(participants)
				.where(sql`${participants.id} in ${ids}`);
			return Object.fromEntries(rows.map((r) => [r.id, `${r.outcome}/${r.status}`]));
		};
		const responses = (roomId: string) =>
			db.select().from(stageResponses).where(eq(stageResponses.roomId, roomId));

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
		});
		afterAll(async () => {
			for (const r of replicas) await r.hub.shutdown();
			await database?.dispose();
		});

		test('a dyad runs instructions → questionnaire → group choice → end on two replicas', async () => {
			const definition = dyadStudy({ policy: 'end' });
			const { roomId, ids } = await seedStudyRoom(db, definition);
			const network = createLocalNetwork();
			const a = replica(network);
			const b = replica(network);
			const alice = await join(a, roomId, ids[0]!);
			const bob = await join(b, roomId, ids[1]!);
			expect(lastView(alice)?.stage?.id).toBe('intro');
			// Both replicas' timers fire for the instructions' deadline; the room advances once.
			await waitFor('questionnaire', () => onStage(alice, 'q1') && onStage(bob, 'q1'), 10_000);
			const log = await a.store.readEvents(roomId, 0);
			expect(log.filter((e) => e.name === 'stage.advanced')).toHaveLength(1);

			await send(alice, 'c1', 'stage.submit', {
				stageId: 'q1',
				response: { type: 'questionnaire', answers: { q: 3 }, rtMs: 700 }
			});
			await send(alice, 'c1', 'stage.submit', {
				stageId: 'q1',
				response: { type: 'questionnaire', answers: { q: 3 }, rtMs: 700 }
			});
			await waitFor('alice acks', () => alice.of('ack').length === 2);
			expect(new Set(alice.of('ack').map((x) => x.seq)).size).toBe(1);
			// Others never see an answer.
			const seen = bob.events().find((e) => e.name === 'stage.submitted');
			expect(seen?.payload).not.toHaveProperty('response');

			await send(bob, 'c1', 'stage.submit', {
				stageId: 'q1',
				response: { type: 'questionnaire', answers: { q: 5 }, rtMs: 700 }
			});
			await waitFor('group choice', () => onStage(alice, 'pick') && onStage(bob, 'pick'));
			// The last submission's command is acked with the seq of its last event (the advance).
			const bobAck = bob.of('ack')[0]!;
			const advanced = (await a.store.readEvents(roomId, 0)).find(
				(e) =>
					e.name === 'stage.advanced' && (e.payload as { toStageId: string }).toStageId === 'pick'
			);
			expect(bobAck.seq).toBe(advanced!.seq);

			const option = (definition.stages[2] as Extract<Stage, { type: 'group_choice' }>).content
				.options[0]!.value;
			await send(alice, 'g1', 'group_choice.pick', { stageId: 'pick', option });
			await send(bob, 'g1', 'group_choice.pick', { stageId: 'pick', option });
			await waitFor(
				'finished',
				() => lastView(alice)?.finished === true && lastView(bob)?.finished === true
			);
			expect(lastView(alice)?.outcome).toBe('completed');

			await waitFor('outcomes in the database', () => true);
			let stored: Record<string, string> = {};
			for (let i = 0; i < 200; i++) {
				stored = await outcomes(ids);
				if (Object.values(stored).every((o) => o === 'completed/finished')) break;
				await Bun.sleep(20);
			}
			expect(stored).toEqual({ [ids[0]!]: 'completed/finished', [ids[1]!]: 'completed/finished' });
			const rows = await responses(roomId);
			expect(rows.map((r) => `${r.participantId}:${r.stageId}`).sort()).toEqual(
				[`${ids[0]}:pick`, `${ids[0]}:q1`, `${ids[1]}:pick`, `${ids[1]}:q1`].sort()
			);
			expect(rows.find((r) => r.participantId === ids[0] && r.stageId === 'q1')?.response).toEqual({
				type: 'questionnaire',
				answers: { q: 3 },
				rtMs: 700
			});
			// A resend after everything (to a fresh replica) is acked with the same seq, no new row.
			const late = await join(replica(network), roomId, ids[0]!);
			await send(late, 'c1', 'stage.submit', {
				stageId: 'q1',
				response: { type: 'questionnaire', answers: { q: 6 }, rtMs: 700 }
			});
			await waitFor('late ack', () => late.of('ack').length === 1);
			expect(late.of('ack')[0]!.seq).toBe(alice.of('ack')[0]!.seq);
			expect(await responses(roomId)).toHaveLength(4);
			const log2 = await a.store.readEvents(roomId, 0);
			expect(log2.filter((e) => e.name === 'member.outcome')).toHaveLength(2);
			expect(log2.filter((e) => e.name === 'room.finished')).toHaveLength(1);
		});

		test('server commands with an id (webhooks) commit once, even sent to two replicas at once', async () => {
			const { roomId } = await seedStudyRoom(db, dyadStudy({ policy: 'end' }));
			const network = createLocalNetwork();
			const [a, b] = [replica(network), replica(network)];
			const record = { kind: 'participant_joined', identity: 'p-x', at: Date.now() };
			const results = await Promise.all([
				a.hub.submitServerCommand(roomId, 'av.record', record, 'WH_1'),
				b.hub.submitServerCommand(roomId, 'av.record', record, 'WH_1'),
				a.hub.submitServerCommand(roomId, 'av.record', record, 'WH_1')
			]);
			expect(results.every((r) => r.ok)).toBe(true);
			const seqs = new Set(results.map((r) => (r.ok ? r.seq : -1)));
			expect(seqs.size).toBe(1);
			const logged = await db
				.select({ seq: roomEvents.seq })
				.from(roomEvents)
				.where(and(eq(roomEvents.roomId, roomId), eq(roomEvents.name, 'av.recorded')));
			expect(logged).toHaveLength(1);
			// Refusals come back as results, and nothing is logged for them.
			expect(
				await a.hub.submitServerCommand(roomId, 'av.record', { kind: 'nope' }, 'WH_2')
			).toMatchObject({ ok: false, reason: 'invalid_command' });
			expect(
				await a.hub.submitServerCommand('no-such-room', 'av.record', record, 'WH_3')
			).toMatchObject({ ok: false, reason: 'room_not_found' });
		});

		test('a reconnect within the grace period has no effect; a longer absence ends the room', async () => {
			const { roomId, ids } = await seedStudyRoom(db, dyadStudy({ policy: 'end' }));
			const r = replica(undefined, undefined, 400);
			const alice = await join(r, roomId, ids[0]!);
			let bob = await join(r, roomId, ids[1]!);
			bob.drop();
			await waitFor('disconnect logged', () =>
				alice
					.events()
					.some(
						(e) =>
							e.name === 'member.connection' && !(e.payload as { connected: boolean }).connected
					)
			);
			bob = await join(r, roomId, ids[1]!);
			await Bun.sleep(600); // longer than the grace period: nothing may happen in it
			expect(alice.events().some((e) => e.name === 'member.presence')).toBe(false);
			expect(lastView(alice)?.finished).toBe(false);

			bob.drop();
			await waitFor('dropout', () => lastView(alice)?.finished === true, 5_000);
			expect(lastView(alice)?.outcome).toBe('dropout');
			let stored: Record<string, string> = {};
			for (let i = 0; i < 200; i++) {
				stored = await outcomes(ids);
				if (Object.values(stored).every((o) => o === 'dropout/finished')) break;
				await Bun.sleep(20);
			}
			expect(stored).toEqual({ [ids[0]!]: 'dropout/finished', [ids[1]!]: 'dropout/finished' });
		});

		test('pause policy: a visible countdown, then the stage policy acts when it runs out', async () => {
			const { roomId, ids } = await seedStudyRoom(
				db,
				dyadStudy({ policy: 'pause', countdownSeconds: 5, then: 'end' })
			);
			const r = replica(undefined, undefined, 200);
			const alice = await join(r, roomId, ids[0]!);
			const bob = await join(r, roomId, ids[1]!);
			bob.drop();
			await waitFor('paused', () => lastView(alice)?.paused != null, 5_000);
			const paused = lastView(alice)!.paused as { resumeDeadline: number; missingCount: number };
			expect(paused.missingCount).toBe(1);
			await waitFor('countdown ran out', () => lastView(alice)?.finished === true, 15_000);
			const names = (await r.store.readEvents(roomId, 0)).map((e) => e.name);
			expect(names.filter((n) => n === 'room.paused').length).toBeGreaterThanOrEqual(1);
			expect(names.filter((n) => n === 'member.outcome')).toHaveLength(2);
			// The outcomes reach the participants table too (and are written before teardown).
			let stored: Record<string, string> = {};
			for (let i = 0; i < 50; i++) {
				stored = await outcomes(ids);
				if (Object.values(stored).every((o) => o === 'dropout/finished')) break;
				await Bun.sleep(100);
			}
			expect(stored).toEqual({ [ids[0]!]: 'dropout/finished', [ids[1]!]: 'dropout/finished' });
		});
	});
}
