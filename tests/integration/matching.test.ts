import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { and, eq, sql } from 'drizzle-orm';
import type { Database, DatabaseHandle } from '../../src/lib/server/db/database';
import { openDatabase } from '../../src/lib/server/db/open';
import {
	participants,
	roomMembers,
	rooms,
	studies,
	studyVersions,
	users
} from '../../src/lib/server/db/schema';
import {
	formCohort,
	formGroups,
	joinOpenRoom,
	joinWaitingRoom,
	leaveWaitingRoom,
	touchWaiting,
	type FormationResult
} from '../../src/lib/server/matching';
import { createBlankStudy, type StudySettings } from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';

// Group formation against real databases: the advisory lock is what keeps several replicas
// from placing a participant twice, so these tests run it on PGlite and on Postgres.
setDefaultTimeout(120_000);

let serial = 0;
function nextId(prefix: string): string {
	serial += 1;
	return `${prefix}-${serial}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A live study with one published version whose settings are `patch` over a blank study. */
async function seedStudy(db: Database, patch: Partial<StudySettings>): Promise<string> {
	const definition = createBlankStudy('Matching test');
	definition.settings = { ...definition.settings, ...patch };
	const userId = nextId('u');
	const studyId = nextId('s');
	const at = new Date();
	await db.insert(users).values({
		id: userId,
		email: `${userId}@matching.test`,
		name: 'Owner',
		passwordHash: 'not-used',
		role: 'researcher'
	});
	await db.insert(studies).values({
		id: studyId,
		slug: nextId('slug').replace(/-/g, ''),
		ownerId: userId,
		title: 'Matching test',
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

/** Participants who finished their pre-room stages (status `consenting`). */
async function addParticipants(db: Database, studyId: string, n: number, at = new Date()) {
	const ids = Array.from({ length: n }, () => nextId('p'));
	await db.insert(participants).values(
		ids.map((id) => ({
			id,
			studyId,
			version: 1,
			tokenHash: `hash-${id}`,
			createdAt: at,
			lastSeenAt: at
		}))
	);
	return ids;
}

async function statusOf(db: Database, id: string) {
	const [row] = await db.select().from(participants).where(eq(participants.id, id));
	return row!;
}

const ROLES_1_LEADER: StudySettings['roles'] = [
	{ id: 'leader', name: 'Leader', minCount: 1, maxCount: 1 },
	{ id: 'follower', name: 'Follower', minCount: 2, maxCount: null }
];
const TWO_CONDITIONS: StudySettings['conditions'] = {
	assignment: 'balanced',
	list: [
		{ id: 'a', name: 'A' },
		{ id: 'b', name: 'B' }
	]
};

for (const target of databaseTargets('matching')) {
	describe.skipIf(!target.available)(`group formation (${target.name})`, () => {
		let testDb: TestDatabase;
		let db: Database;
		/** The "replicas": three separate pools on Postgres; PGlite has one handle to share. */
		const replicas: DatabaseHandle[] = [];

		beforeAll(async () => {
			testDb = await target.create();
			db = testDb.handle.db;
			if (testDb.url) {
				for (let i = 0; i < 3; i++) {
					replicas.push(
						await openDatabase({ databaseUrl: testDb.url, dataDir: '', migrate: false })
					);
				}
			} else replicas.push(testDb.handle, testDb.handle, testDb.handle);
		});

		afterAll(async () => {
			if (testDb?.url) for (const replica of replicas) await replica.close();
			await testDb?.dispose();
		});

		test('200 arrivals on 3 replicas form exactly 50 full groups of 4, nobody twice', async () => {
			const studyId = await seedStudy(db, {
				session: { mode: 'matched', groupSize: 4, minGroupSize: 4, lobbyTimeoutSeconds: 600 },
				roles: ROLES_1_LEADER,
				conditions: TWO_CONDITIONS
			});
			const ids = await addParticipants(db, studyId, 200);
			const results: FormationResult[] = [];
			let joining = true;

			// Arrivals: each replica takes every third participant, in small bursts.
			const joins = replicas.map(async (replica, r) => {
				const mine = ids.filter((_, i) => i % 3 === r);
				for (let i = 0; i < mine.length; i += 7) {
					await Promise.all(
						mine.slice(i, i + 7).map(async (id) => {
							const joined = await joinWaitingRoom(replica.db, id, new Date());
							expect(joined.ok || (!joined.ok && joined.reason === 'in_room')).toBe(true);
						})
					);
					await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
				}
			});
			// Every replica forms groups over and over while people arrive.
			const formers = replicas.map(async (replica) => {
				while (joining) {
					results.push(await formGroups(replica.db, studyId, new Date()));
					await new Promise((resolve) => setTimeout(resolve, 1));
				}
			});
			await Promise.all(joins);
			joining = false;
			await Promise.all(formers);
			results.push(
				...(await Promise.all(replicas.map((r) => formGroups(r.db, studyId, new Date()))))
			);

			const groups = results.flatMap((r) => r.groups);
			expect(groups).toHaveLength(50);
			const placed = groups.flatMap((g) => g.members.map((m) => m.participantId));
			expect(new Set(placed).size).toBe(200);
			expect(placed).toHaveLength(200);
			expect(results.flatMap((r) => r.outcomes)).toHaveLength(0);

			const memberRows = await db
				.select({
					roomId: roomMembers.roomId,
					participantId: roomMembers.participantId,
					role: roomMembers.role,
					condition: roomMembers.condition
				})
				.from(roomMembers)
				.innerJoin(rooms, eq(rooms.id, roomMembers.roomId))
				.where(eq(rooms.studyId, studyId));
			expect(memberRows).toHaveLength(200);
			expect(new Set(memberRows.map((m) => m.participantId)).size).toBe(200);
			const byRoom = Map.groupBy(memberRows, (m) => m.roomId);
			expect(byRoom.size).toBe(50);
			for (const members of byRoom.values()) {
				expect(members).toHaveLength(4);
				expect(members.filter((m) => m.role === 'leader')).toHaveLength(1);
				expect(members.filter((m) => m.role === 'follower')).toHaveLength(3);
				expect(new Set(members.map((m) => m.condition)).size).toBe(1);
			}
			const perCondition = Map.groupBy([...byRoom.values()], (members) => members[0]!.condition);
			expect(perCondition.get('a')).toHaveLength(25);
			expect(perCondition.get('b')).toHaveLength(25);

			const [roomCount] = await db
				.select({ n: sql<number>`count(*)::int` })
				.from(rooms)
				.where(and(eq(rooms.studyId, studyId), eq(rooms.kind, 'study')));
			expect(Number(roomCount!.n)).toBe(50);
			const rows = await db.select().from(participants).where(eq(participants.studyId, studyId));
			const roomOf = new Map(memberRows.map((m) => [m.participantId, m.roomId]));
			for (const row of rows) {
				expect(row.status).toBe('in_room');
				expect(row.roomId).toBe(roomOf.get(row.id)!);
				expect(row.outcome).toBeNull();
			}
		});

		test('a lobby timeout forms a smaller group when enough wait, else gives lobby_timeout', async () => {
			const t0 = Date.parse('2030-01-01T10:00:00Z');
			const at = (s: number) => new Date(t0 + s * 1000);
			const session = {
				mode: 'matched' as const,
				groupSize: 4,
				minGroupSize: 3,
				lobbyTimeoutSeconds: 60
			};
			const roles: StudySettings['roles'] = [
				{ id: 'member', name: 'Member', minCount: 1, maxCount: null }
			];

			const enough = await seedStudy(db, { session, roles });
			const three = await addParticipants(db, enough, 3, at(0));
			for (const id of three) await joinWaitingRoom(db, id, at(0));
			expect((await formGroups(db, enough, at(15))).groups).toHaveLength(0);
			for (const id of three) expect(await touchWaiting(db, id, at(58))).toEqual({ ok: true });
			const formed = await formGroups(db, enough, at(61));
			expect(formed.groups).toHaveLength(1);
			expect(formed.groups[0]!.members.map((m) => m.participantId).sort()).toEqual(
				[...three].sort()
			);
			expect(formed.outcomes).toHaveLength(0);

			// Three wait, but this study needs four even after the timeout.
			const few = await seedStudy(db, { session: { ...session, minGroupSize: 4 }, roles });
			const [early1, early2, late] = await addParticipants(db, few, 3, at(0));
			await joinWaitingRoom(db, early1!, at(0));
			await joinWaitingRoom(db, early2!, at(5));
			await joinWaitingRoom(db, late!, at(40));
			for (const id of [early1!, early2!, late!]) await touchWaiting(db, id, at(60));
			const timedOut = await formGroups(db, few, at(66));
			expect(timedOut.groups).toHaveLength(0);
			expect(timedOut.outcomes.map((o) => o.participantId).sort()).toEqual(
				[early1!, early2!].sort()
			);
			for (const id of [early1!, early2!]) {
				const row = await statusOf(db, id);
				expect(row.status).toBe('finished');
				expect(row.outcome).toBe('lobby_timeout');
				expect(row.outcomeAt?.getTime()).toBe(at(66).getTime());
			}
			expect((await statusOf(db, late!)).status).toBe('waiting');
			// An outcome is given once: a finished participant cannot wait again.
			expect(await joinWaitingRoom(db, early1!, at(70))).toEqual({ ok: false, reason: 'finished' });
		});

		test('a ghost is removed from the waiting room and can come back', async () => {
			const t0 = Date.parse('2030-02-01T10:00:00Z');
			const at = (s: number) => new Date(t0 + s * 1000);
			const studyId = await seedStudy(db, {
				session: { mode: 'matched', groupSize: 4, minGroupSize: 4, lobbyTimeoutSeconds: 600 }
			});
			const ids = await addParticipants(db, studyId, 4, at(0));
			const [ghost, ...present] = ids;
			await joinWaitingRoom(db, ghost!, at(0));
			for (const id of present) await joinWaitingRoom(db, id, at(10));
			// The ghost closed its tab at 0 s; the others are seen at 28 s.
			const pass = await formGroups(db, studyId, at(28));
			expect(pass.groups).toHaveLength(0);
			expect(pass.removed).toEqual([ghost!]);
			const row = await statusOf(db, ghost!);
			expect(row.status).toBe('left');
			expect(row.outcome).toBeNull();
			expect(await touchWaiting(db, ghost!, at(29))).toEqual({
				ok: false,
				reason: 'not_waiting',
				status: 'left'
			});
			for (const id of present) await touchWaiting(db, id, at(30));
			const back = await joinWaitingRoom(db, ghost!, at(30));
			expect(back.ok).toBe(true);
			const formed = await formGroups(db, studyId, at(31));
			expect(formed.groups).toHaveLength(1);
			expect(formed.groups[0]!.members).toHaveLength(4);
			expect(await leaveWaitingRoom(db, ghost!)).toEqual({ ok: false, reason: 'not_waiting' });
		});

		test('a refresh (leave, then back within the grace period) keeps the place in line', async () => {
			const t0 = Date.parse('2030-02-02T10:00:00Z');
			const at = (s: number) => new Date(t0 + s * 1000);
			const studyId = await seedStudy(db, {
				session: { mode: 'matched', groupSize: 2, minGroupSize: 2, lobbyTimeoutSeconds: 600 }
			});
			const [first, second, third] = await addParticipants(db, studyId, 3, at(0));
			await joinWaitingRoom(db, first!, at(0));
			await joinWaitingRoom(db, second!, at(1));
			// `first` refreshes at 5 s: the beacon takes them out, the new page rejoins at once.
			expect(await leaveWaitingRoom(db, first!)).toEqual({ ok: true });
			const back = await joinWaitingRoom(db, first!, at(5));
			expect(back.ok && back.waitingSince.getTime()).toBe(at(0).getTime());
			await joinWaitingRoom(db, third!, at(6));
			const formed = await formGroups(db, studyId, at(6));
			expect(formed.groups.map((g) => g.members.map((m) => m.participantId).sort())).toEqual([
				[first!, second!].sort()
			]);
			// Gone longer than the grace period: a newcomer again, at the back of the line.
			await leaveWaitingRoom(db, third!);
			const late = await joinWaitingRoom(db, third!, at(60));
			expect(late.ok && late.waitingSince.getTime()).toBe(at(60).getTime());
		});

		test('open rooms: invite codes, capacity under concurrent joins, refusals', async () => {
			const studyId = await seedStudy(db, {
				session: { mode: 'open', capacity: 3, participantsCreateRooms: true }
			});
			const [host, ...guests] = await addParticipants(db, studyId, 12);
			const now = new Date();
			const created = await joinOpenRoom(db, studyId, host!, { create: true }, now);
			if (!created.ok) throw new Error(`create failed: ${created.reason}`);
			expect(created.code).toMatch(/^[A-Z0-9]{6}$/);
			expect(created.joined).toBe(true);
			expect(created.role).toBe('participant');

			// Nine guests race for the two seats left, from three replicas.
			const typed = `${created.code.slice(0, 3).toLowerCase()}-${created.code.slice(3)}`;
			const attempts = await Promise.all(
				guests
					.slice(0, 9)
					.map((id, i) => joinOpenRoom(replicas[i % 3]!.db, studyId, id, { code: typed }, now))
			);
			expect(attempts.filter((a) => a.ok)).toHaveLength(2);
			expect(attempts.filter((a) => !a.ok && a.reason === 'full')).toHaveLength(7);
			const members = await db
				.select()
				.from(roomMembers)
				.where(eq(roomMembers.roomId, created.roomId));
			expect(members).toHaveLength(3);

			const again = await joinOpenRoom(db, studyId, host!, { create: true }, now);
			expect(again).toMatchObject({ ok: true, roomId: created.roomId, joined: false });
			expect(await joinOpenRoom(db, studyId, guests[9]!, { code: 'QQQQQQ' }, now)).toEqual({
				ok: false,
				reason: 'unknown_code'
			});
			expect(await joinOpenRoom(db, studyId, guests[9]!, { code: 'nope' }, now)).toEqual({
				ok: false,
				reason: 'unknown_code'
			});
			expect(await joinWaitingRoom(db, guests[10]!, now)).toEqual({
				ok: false,
				reason: 'wrong_mode'
			});

			const closedToCreate = await seedStudy(db, {
				session: { mode: 'open', capacity: 3, participantsCreateRooms: false }
			});
			const [someone] = await addParticipants(db, closedToCreate, 1);
			expect(await joinOpenRoom(db, closedToCreate, someone!, { create: true }, now)).toEqual({
				ok: false,
				reason: 'not_allowed'
			});
		});

		test('a scheduled cohort takes everyone waiting at the start, in balanced rooms', async () => {
			const start = new Date('2030-03-01T12:00:00Z');
			const at = (s: number) => new Date(start.getTime() + s * 1000);
			const session = {
				mode: 'scheduled' as const,
				intervalMinutes: 30,
				firstStartAt: '',
				minCohortSize: 2,
				maxCohortSize: 4
			};
			const roles: StudySettings['roles'] = [
				{ id: 'member', name: 'Member', minCount: 1, maxCount: null }
			];
			const studyId = await seedStudy(db, { session, roles, conditions: TWO_CONDITIONS });
			const early = await addParticipants(db, studyId, 10, at(-300));
			for (const id of early) await joinWaitingRoom(db, id, at(-120));
			const [late] = await addParticipants(db, studyId, 1, at(0));
			await joinWaitingRoom(db, late!, at(3));
			for (const id of [...early, late!]) await touchWaiting(db, id, at(4));

			expect(await formCohort(db, studyId, start, at(-1))).toEqual({
				ok: false,
				reason: 'not_started'
			});
			const [first, second] = await Promise.all([
				formCohort(replicas[0]!.db, studyId, start, at(5)),
				formCohort(replicas[1]!.db, studyId, start, at(5))
			]);
			if (!first!.ok || !second!.ok) throw new Error('cohort refused');
			const groups = [...first.groups, ...second.groups];
			expect(groups.map((g) => g.members.length).sort()).toEqual([3, 3, 4]);
			expect(new Set(groups.flatMap((g) => g.members.map((m) => m.participantId)))).toEqual(
				new Set(early)
			);
			expect((await statusOf(db, late!)).status).toBe('waiting');

			const lonely = await seedStudy(db, { session, roles });
			const [alone] = await addParticipants(db, lonely, 1, at(-60));
			await joinWaitingRoom(db, alone!, at(-60));
			await touchWaiting(db, alone!, at(0));
			const none = await formCohort(db, lonely, start, at(1));
			expect(none).toMatchObject({ ok: true, groups: [] });
			expect((await statusOf(db, alone!)).outcome).toBe('lobby_timeout');
		});
	});
}
