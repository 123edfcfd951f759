import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { and, eq } from 'drizzle-orm';
import type { GroupMetricData, ServerMessage } from '../../src/lib/protocol';
import { hashSecret } from '../../src/lib/server/auth/tokens';
import type { Database } from '../../src/lib/server/db/database';
import {
	participants,
	roomMembers,
	rooms,
	studies,
	studyVersions,
	telemetrySamples,
	users
} from '../../src/lib/server/db/schema';
import { generateParticipantToken } from '../../src/lib/server/participants/token';
import { createLocalNetwork } from '../../src/lib/server/realtime/bus/local';
import { createStudyRoomServices } from '../../src/lib/server/rooms/study-rooms';
import { ingestParticipantSignals } from '../../src/lib/server/signals/ingest';
import { synthesizeRrIntervals } from '../../src/lib/signals/synthetic';
import type { Stage } from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';
import { FakeConnection, Replica, waitFor } from '../support/realtime';
import { makeStage, makeStudy } from '../support/room-study';

// The signal ingest end to end at hub level, on real databases: samples posted through the
// ingest service (as `POST /s/<slug>/signals` does) and sent over a room socket, stored as
// telemetry once, and turned into the `metric` ephemerals of a group_metric stage.
setDefaultTimeout(60_000);

let serial = 0;
const nextId = (prefix: string) =>
	`${prefix}-${++serial}-${Math.random().toString(36).slice(2, 8)}`;

function coherenceStudy() {
	const stage = makeStage('group_metric', 'breathe', {
		content: {
			label: 'Group coherence',
			metric: 'coherence',
			signal: 'rr',
			min: 0,
			max: 100,
			markdown: ''
		}
	} as Partial<Stage>);
	return makeStudy([stage]);
}

/** A live study with one room of `size` members (tokens known) and one participant still waiting. */
async function seedStudy(db: Database, size = 2) {
	const userId = nextId('u');
	const studyId = nextId('s');
	const roomId = nextId('room');
	const slug = nextId('slug').replace(/-/g, '');
	const definition = coherenceStudy();
	const at = new Date();
	await db.insert(users).values({
		id: userId,
		email: `${userId}@signals.test`,
		name: 'Owner',
		passwordHash: 'not-used',
		role: 'researcher'
	});
	await db.insert(studies).values({
		id: studyId,
		slug,
		ownerId: userId,
		title: 'Signals test',
		status: 'live',
		draft: definition,
		latestVersion: 1,
		createdAt: at,
		updatedAt: at
	});
	await db
		.insert(studyVersions)
		.values({ studyId, version: 1, definition, contentHash: 'test', publishedAt: at });
	await db.insert(rooms).values({ id: roomId, kind: 'study', studyId, studyVersion: 1 });
	const members = Array.from({ length: size }, () => ({
		id: nextId('p'),
		token: generateParticipantToken()
	}));
	const waiting = { id: nextId('p'), token: generateParticipantToken() };
	await db.insert(participants).values([
		...members.map(({ id, token }) => ({
			id,
			studyId,
			version: 1,
			tokenHash: hashSecret(token),
			status: 'in_room' as const,
			roomId,
			createdAt: at,
			lastSeenAt: at
		})),
		{
			id: waiting.id,
			studyId,
			version: 1,
			tokenHash: hashSecret(waiting.token),
			status: 'waiting' as const,
			createdAt: at,
			lastSeenAt: at,
			waitingSince: at
		}
	]);
	await db.insert(roomMembers).values(
		members.map(({ id }, i) => ({
			roomId,
			participantId: id,
			role: null,
			condition: null,
			joinedAt: new Date(at.getTime() + i)
		}))
	);
	return { roomId, slug, members, waiting };
}

function metrics(connection: FakeConnection): GroupMetricData[] {
	return connection.frames.flatMap((f: ServerMessage) =>
		f.type === 'ephemeral' && f.from === 'system' && f.kind === 'metric'
			? [f.data as GroupMetricData]
			: []
	);
}

/** Calm, slow breathing: 80 s of beats, posted as batches of 30 as a device would. */
function rrBatch(prefix: string) {
	const rr = synthesizeRrIntervals({
		seconds: 80,
		meanMs: 900,
		rhythms: [{ hz: 0.1, amplitudeMs: 60 }],
		noiseMs: 5,
		seed: 7
	});
	const samples = [];
	for (let i = 0; i < rr.length; i += 30) {
		samples.push({
			id: `${prefix}-${i}`,
			kind: 'rr',
			intervalsMs: rr.slice(i, i + 30),
			at: Date.now()
		});
	}
	return JSON.stringify({ samples });
}

for (const target of databaseTargets('signal ingest tests')) {
	describe.skipIf(!target.available)(`signal ingest on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		const replicas: Replica[] = [];
		const replica = (network: ReturnType<typeof createLocalNetwork>) => {
			const created = new Replica(db, network.createBus(nextId('replica')), {
				studyRooms: createStudyRoomServices(db)
			});
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

		test('posted R-R (via another replica) and socket coherence values become metric ephemerals', async () => {
			const network = createLocalNetwork();
			const a = replica(network);
			const b = replica(network); // has no socket for the room: its posts travel over the bus
			const { roomId, slug, members } = await seedStudy(db);
			const [calm, reporter] = members as [(typeof members)[0], (typeof members)[0]];
			const calmSocket = await a.join(roomId, calm.id);
			const reporterSocket = await a.join(roomId, reporter.id);

			const posted = await ingestParticipantSignals({
				db,
				sink: b.hub,
				slug,
				token: calm.token,
				body: rrBatch('calm')
			});
			expect(posted).toMatchObject({ ok: true });
			await reporterSocket.receive({
				type: 'telemetry',
				samples: [{ id: 'c-1', kind: 'signal.coherence', t: Date.now(), value: 30 }]
			});
			expect(reporterSocket.of('telemetry').at(-1)).toEqual({ type: 'telemetry', accepted: 1 });

			await waitFor('a metric with both members', () =>
				metrics(calmSocket).some((m) => m.group?.count === 2)
			);
			const metric = metrics(calmSocket).findLast((m) => m.group?.count === 2)!;
			expect(metric).toMatchObject({ stageId: 'breathe', metric: 'coherence', min: 0, max: 100 });
			const byId = Object.fromEntries(metric.members.map((m) => [m.id, m.value]));
			expect(byId[calm.id]).toBeGreaterThan(60);
			expect(byId[reporter.id]).toBe(30);
			expect(metric.group!.mean).toBeCloseTo((byId[calm.id]! + 30) / 2, 6);
			expect(metric.group!.distribution).toEqual({ low: 1, medium: 0, high: 1 });
			// Every member's socket gets it, and it is never stored as an event.
			await waitFor('the other member sees it too', () =>
				metrics(reporterSocket).some((m) => m.group?.count === 2)
			);
			expect(calmSocket.events().some((e) => e.name.includes('metric'))).toBe(false);
		});

		test('a resent batch is stored once', async () => {
			const r = replica(createLocalNetwork());
			const { roomId, slug, members } = await seedStudy(db);
			const body = rrBatch('resend');
			const count = (JSON.parse(body) as { samples: unknown[] }).samples.length;
			for (let i = 0; i < 2; i++) {
				const result = await ingestParticipantSignals({
					db,
					sink: r.hub,
					slug,
					token: members[0]!.token,
					body
				});
				expect(result).toEqual({ ok: true, accepted: count });
			}
			await r.telemetry.flush();
			const rows = await db
				.select()
				.from(telemetrySamples)
				.where(
					and(eq(telemetrySamples.roomId, roomId), eq(telemetrySamples.actor, members[0]!.id))
				);
			expect(rows).toHaveLength(count);
			expect(new Set(rows.map((row) => row.kind))).toEqual(new Set(['signal.rr']));
		});

		test('refusals: no participant, not in a room, a bad body, no hub; then a good post', async () => {
			const r = replica(createLocalNetwork());
			const { slug, members, waiting } = await seedStudy(db);
			const body = JSON.stringify({
				samples: [{ id: 'x1', kind: 'rating', value: 3, at: Date.now() }]
			});
			const ingest = (token: string | null, text = body) =>
				ingestParticipantSignals({ db, sink: r.hub, slug, token, body: text });

			expect(await ingest(null)).toEqual({ ok: false, reason: 'unauthorized' });
			expect(await ingest(generateParticipantToken())).toEqual({
				ok: false,
				reason: 'unauthorized'
			});
			expect(await ingest(waiting.token)).toEqual({ ok: false, reason: 'not_in_room' });
			expect(
				await ingest(members[0]!.token, '{"samples":[{"kind":"rating","value":3,"at":1}]}')
			).toMatchObject({
				ok: false,
				reason: 'invalid'
			});
			const withoutHub = await ingestParticipantSignals({
				db,
				sink: undefined,
				slug,
				token: members[0]!.token,
				body
			});
			expect(withoutHub).toEqual({ ok: false, reason: 'unavailable' });
			expect(await ingest(members[0]!.token)).toEqual({ ok: true, accepted: 1 });
		});
	});
}
