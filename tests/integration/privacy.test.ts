import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { listAuditEvents, readStudyAudit } from '../../src/lib/server/audit';
import type { SessionUser } from '../../src/lib/server/auth/sessions';
import type { Database } from '../../src/lib/server/db/database';
import {
	auditEvents,
	participantExternalIds,
	participants,
	roomEvents,
	roomMembers,
	rooms,
	stageResponses,
	studies,
	studyChanges,
	studyMembers,
	studyVersions,
	telemetrySamples,
	users
} from '../../src/lib/server/db/schema';
import {
	eraseParticipant,
	exportParticipantData,
	findParticipants,
	listStudyParticipants,
	redactPayload
} from '../../src/lib/server/privacy';
import { EXPORT_PAGE_SIZE } from '../../src/lib/server/privacy/export';
import { listMembersOfStudy, shareStudy, unshareStudy } from '../../src/lib/server/studies/sharing';
import type { ParticipantListQuery } from '../../src/lib/server/privacy/schemas';
import { createBlankStudy } from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';

// The data permission, one participant's export and erasure, and the audit log, against real
// databases: who may reach external ids, what an export holds, what erasure removes and
// redacts (checked in the tables), and that every access writes exactly one audit entry.
setDefaultTimeout(120_000);

let serial = 0;
const tagOf = () => `${++serial}${Math.random().toString(36).slice(2, 7)}`;

const PID = '5f00aa11bb22cc33dd44ee55';
const list = (patch: Partial<ParticipantListQuery> = {}): ParticipantListQuery => ({
	q: '',
	by: 'participant',
	externalIds: false,
	limit: 50,
	...patch
});

type Seeded = {
	studyId: string;
	owner: SessionUser;
	ben: SessionUser;
	vera: SessionUser;
	stranger: SessionUser;
	/** p1 and p2 were in the finished room, p3 is in a running room, p4 waits, p5 is a bot. */
	p: { p1: string; p2: string; p3: string; p4: string; p5: string };
	finishedRoom: string;
	runningRoom: string;
	/** Telemetry rows p2 sent: more than one export page. */
	p2Telemetry: number;
};

async function addUser(db: Database, role: 'admin' | 'researcher' | 'viewer', name: string) {
	const tag = tagOf();
	const user: SessionUser = { id: `u-${tag}`, email: `${name}-${tag}@privacy.test`, name, role };
	await db.insert(users).values({ ...user, passwordHash: 'not-used' });
	return user;
}

/** A study with two rooms' worth of data, written as the runtime writes it. */
async function seed(db: Database): Promise<Seeded> {
	const tag = tagOf();
	const owner = await addUser(db, 'researcher', 'rhea');
	const ben = await addUser(db, 'researcher', 'ben');
	const vera = await addUser(db, 'viewer', 'vera');
	const stranger = await addUser(db, 'researcher', 'sam');
	const studyId = `s-${tag}`;
	const definition = createBlankStudy('Privacy');
	const at = new Date(Date.UTC(2026, 0, 5, 10));
	await db.insert(studies).values({
		id: studyId,
		slug: `slug${tag}`,
		ownerId: owner.id,
		title: 'Privacy',
		status: 'live',
		draft: definition,
		latestVersion: 1,
		createdAt: at,
		updatedAt: at
	});
	await db
		.insert(studyVersions)
		.values({ studyId, version: 1, definition, contentHash: 'test', publishedAt: at });
	for (const member of [ben, vera]) {
		await db.insert(studyMembers).values({
			studyId,
			userId: member.id,
			permission: 'view',
			grantedBy: owner.id,
			grantedAt: at
		});
	}
	const p = {
		p1: `p-${tag}-one`,
		p2: `p-${tag}-two`,
		p3: `p-${tag}-three`,
		p4: `p-${tag}-four`,
		p5: `p-${tag}-bot`
	};
	const finishedRoom = `r-${tag}-done`;
	const runningRoom = `r-${tag}-live`;
	await db.insert(rooms).values([
		{ id: finishedRoom, kind: 'study', studyId, studyVersion: 1, headSeq: 0 },
		{ id: runningRoom, kind: 'study', studyId, studyVersion: 1, headSeq: 0 }
	]);
	// p3 and p4 share a creation time: the list's keyset must still order them by id.
	const created = (minutes: number) => new Date(at.getTime() + minutes * 60_000);
	const row = (id: string, minutes: number, extra: Partial<typeof participants.$inferInsert>) => ({
		id,
		studyId,
		version: 1,
		tokenHash: `hash-${id}`,
		createdAt: created(minutes),
		lastSeenAt: created(minutes),
		...extra
	});
	await db.insert(participants).values([
		row(p.p1, 1, {
			status: 'finished',
			roomId: finishedRoom,
			role: 'participant',
			condition: 'a',
			outcome: 'completed',
			linkParams: { utm_source: 'mail' }
		}),
		row(p.p2, 2, {
			status: 'finished',
			roomId: finishedRoom,
			condition: 'a',
			outcome: 'completed'
		}),
		row(p.p3, 3, { status: 'in_room', roomId: runningRoom, condition: 'b' }),
		row(p.p4, 3, { status: 'waiting', waitingSince: created(3) }),
		row(p.p5, 4, { status: 'consenting', isBot: true })
	]);
	await db.insert(participantExternalIds).values([
		{ participantId: p.p1, source: 'prolific', name: 'PROLIFIC_PID', value: PID },
		{ participantId: p.p1, source: 'prolific', name: 'SESSION_ID', value: 'sess-1' },
		{ participantId: p.p3, source: 'prolific', name: 'PROLIFIC_PID', value: 'other-pid' }
	]);
	await db.insert(roomMembers).values([
		{
			roomId: finishedRoom,
			participantId: p.p1,
			role: 'participant',
			condition: 'a',
			joinedAt: at
		},
		{
			roomId: finishedRoom,
			participantId: p.p2,
			role: 'participant',
			condition: 'a',
			joinedAt: at
		},
		{ roomId: runningRoom, participantId: p.p3, role: 'participant', condition: 'b', joinedAt: at }
	]);
	const t = at.getTime();
	const finishedLog: [string, string, Record<string, unknown>][] = [
		['system', 'member.connection', { memberId: p.p1, connected: true }],
		['system', 'member.connection', { memberId: p.p2, connected: true }],
		[p.p1, 'stage.submitted', { stageId: 'q', memberId: p.p1, response: { q: 'I am 34' }, at: t }],
		[p.p2, 'stage.submitted', { stageId: 'q', memberId: p.p2, response: { q: 'p2 said' }, at: t }],
		[p.p1, 'chat.sent', { id: 1, stageId: 'talk', memberId: p.p1, text: 'I live in Lyon', at: t }],
		[p.p2, 'chat.sent', { id: 2, stageId: 'talk', memberId: p.p2, text: 'hello', at: t }],
		[p.p1, 'goal.set', { stageId: 'focus', memberId: p.p1, text: 'finish thesis', at: t }],
		[p.p1, 'group_choice.picked', { stageId: 'pick', memberId: p.p1, option: 'b', at: t }],
		[
			'system',
			'room.paused',
			{ since: t, resumeDeadline: null, reason: 'dropout', missing: [p.p1] }
		],
		['system', 'room.resumed', { at: t, pausedMs: 5 }],
		['system', 'member.outcome', { memberId: p.p1, outcome: 'completed', at: t }],
		['system', 'member.outcome', { memberId: p.p2, outcome: 'completed', at: t }],
		['system', 'room.finished', { at: t, outcome: 'completed' }]
	];
	const runningLog: [string, string, Record<string, unknown>][] = [
		['system', 'member.connection', { memberId: p.p3, connected: true }],
		[p.p3, 'chat.sent', { id: 1, stageId: 'talk', memberId: p.p3, text: 'still here', at: t }]
	];
	for (const [roomId, log] of [
		[finishedRoom, finishedLog],
		[runningRoom, runningLog]
	] as const) {
		await db.insert(roomEvents).values(
			log.map(([actor, name, payload], i) => ({
				roomId,
				seq: i + 1,
				at: new Date(t + i),
				actor,
				name,
				payload
			}))
		);
		await db.update(rooms).set({ headSeq: log.length }).where(eq(rooms.id, roomId));
	}
	const response = (
		participantId: string,
		stageId: string,
		answer: unknown,
		roomId: string | null
	) => ({
		participantId,
		roomId,
		studyId,
		version: 1,
		stageId,
		stageIndex: 0,
		response: answer,
		submittedAt: at
	});
	await db
		.insert(stageResponses)
		.values([
			response(p.p1, 'consent', { agreed: true }, null),
			response(p.p1, 'q', { q: 'I am 34' }, finishedRoom),
			response(p.p2, 'q', { q: 'p2 said' }, finishedRoom)
		]);
	const sample = (roomId: string, actor: string, i: number) => ({
		roomId,
		actor,
		sampleId: `s-${String(i).padStart(5, '0')}`,
		kind: 'video.rating',
		clientTime: i,
		receivedAt: at,
		value: { v: i }
	});
	const p2Telemetry = EXPORT_PAGE_SIZE * 2 + 7;
	await db.insert(telemetrySamples).values([0, 1, 2].map((i) => sample(finishedRoom, p.p1, i)));
	for (let start = 0; start < p2Telemetry; start += 500) {
		const count = Math.min(500, p2Telemetry - start);
		await db
			.insert(telemetrySamples)
			.values(Array.from({ length: count }, (_, i) => sample(finishedRoom, p.p2, start + i)));
	}
	await db.insert(telemetrySamples).values([sample(runningRoom, p.p3, 0)]);
	return { studyId, owner, ben, vera, stranger, p, finishedRoom, runningRoom, p2Telemetry };
}

async function auditOf(db: Database, studyId: string) {
	return db
		.select()
		.from(auditEvents)
		.where(eq(auditEvents.studyId, studyId))
		.orderBy(asc(auditEvents.id));
}

async function readJson(stream: ReadableStream<Uint8Array>): Promise<Record<string, unknown>> {
	return JSON.parse(await new Response(stream).text()) as Record<string, unknown>;
}

for (const target of databaseTargets('privacy')) {
	describe.skipIf(!target.available)(`privacy and audit (${target.name})`, () => {
		let testDb: TestDatabase;
		let db: Database;
		beforeAll(async () => {
			testDb = await target.create();
			db = testDb.handle.db;
		});
		afterAll(async () => {
			await testDb?.dispose();
		});

		test('without the data permission: no external ids, 403 on export, erasure and external search, nothing audited', async () => {
			const s = await seed(db);
			for (const user of [s.ben, s.vera]) {
				const listed = await listStudyParticipants(db, user, s.studyId, list());
				if (!listed.ok) throw new Error(listed.reason);
				expect(listed.dataAccess).toBe(false);
				expect(listed.participants.map((p) => p.id)).toEqual([
					s.p.p5,
					s.p.p4 > s.p.p3 ? s.p.p4 : s.p.p3,
					s.p.p4 > s.p.p3 ? s.p.p3 : s.p.p4,
					s.p.p2,
					s.p.p1
				]);
				expect(listed.participants.every((p) => !('externalIds' in p))).toBe(true);
				expect(JSON.stringify(listed)).not.toContain(PID);
				expect(listed.participants.find((p) => p.id === s.p.p5)?.isBot).toBe(true);

				for (const query of [
					list({ externalIds: true }),
					list({ by: 'external', q: PID }),
					list({ by: 'external', q: 'nobody' })
				]) {
					expect(await listStudyParticipants(db, user, s.studyId, query)).toEqual({
						ok: false,
						reason: 'data_permission'
					});
				}
				expect(await exportParticipantData(db, s.studyId, s.p.p1, user)).toEqual({
					ok: false,
					reason: 'data_permission'
				});
				expect(await eraseParticipant(db, s.studyId, s.p.p1, user)).toEqual({
					ok: false,
					reason: 'data_permission'
				});
				// A participant id that does not exist answers the same: nothing is confirmed.
				expect(await exportParticipantData(db, s.studyId, 'p-nobody', user)).toEqual({
					ok: false,
					reason: 'data_permission'
				});
			}
			// Someone the study is not shared with does not learn it exists.
			expect(await listStudyParticipants(db, s.stranger, s.studyId, list())).toEqual({
				ok: false,
				reason: 'not_found'
			});
			expect(await exportParticipantData(db, s.studyId, s.p.p1, s.stranger)).toEqual({
				ok: false,
				reason: 'not_found'
			});
			const [still] = await db.select().from(participants).where(eq(participants.id, s.p.p1));
			expect(still?.id).toBe(s.p.p1);
			expect(await auditOf(db, s.studyId)).toEqual([]);
		});

		test('granting the data permission is the owner’s, logged twice, and refused to viewer accounts', async () => {
			const s = await seed(db);
			expect(
				await shareStudy(db, s.ben, s.studyId, {
					email: s.ben.email,
					permission: 'view',
					dataAccess: true
				})
			).toEqual({ ok: false, reason: 'forbidden' });
			expect(
				await shareStudy(db, s.owner, s.studyId, {
					email: s.vera.email,
					permission: 'view',
					dataAccess: true
				})
			).toEqual({ ok: false, reason: 'viewer_account' });
			expect(await auditOf(db, s.studyId)).toEqual([]);

			expect(
				await shareStudy(db, s.owner, s.studyId, {
					email: s.ben.email.toUpperCase(),
					permission: 'view',
					dataAccess: true
				})
			).toEqual({ ok: true });
			const members = await listMembersOfStudy(db, s.studyId);
			expect(members.map((m) => [m.email, m.permission, m.dataAccess])).toEqual([
				[s.ben.email, 'view', true],
				[s.vera.email, 'view', false]
			]);
			// Changing the permission alone keeps the data permission.
			await shareStudy(db, s.owner, s.studyId, { email: s.ben.email, permission: 'edit' });
			expect((await listMembersOfStudy(db, s.studyId))[0]?.dataAccess).toBe(true);

			const audit = await auditOf(db, s.studyId);
			expect(audit.map((a) => [a.action, a.userEmail, a.detail])).toEqual([
				['data_access.grant', s.owner.email, { userId: s.ben.id, email: s.ben.email }]
			]);
			const changes = await db
				.select({ action: studyChanges.action, detail: studyChanges.detail })
				.from(studyChanges)
				.where(eq(studyChanges.studyId, s.studyId))
				.orderBy(asc(studyChanges.id));
			expect(changes.map((c) => c.action)).toEqual(['data_access_granted', 'shared']);
			expect(changes[1]?.detail).toMatchObject({ permission: 'edit', dataAccess: true });

			await shareStudy(db, s.owner, s.studyId, {
				email: s.ben.email,
				permission: 'edit',
				dataAccess: false
			});
			await shareStudy(db, s.owner, s.studyId, {
				email: s.ben.email,
				permission: 'edit',
				dataAccess: true
			});
			await unshareStudy(db, s.owner, s.studyId, s.ben.id);
			expect((await auditOf(db, s.studyId)).map((a) => [a.action, a.detail])).toEqual([
				['data_access.grant', { userId: s.ben.id, email: s.ben.email }],
				['data_access.revoke', { userId: s.ben.id, email: s.ben.email }],
				['data_access.grant', { userId: s.ben.id, email: s.ben.email }],
				['data_access.revoke', { userId: s.ben.id, email: s.ben.email, unshared: true }]
			]);
		});

		test('with the permission: external ids listed and searched, each list audited once, never the searched value', async () => {
			const s = await seed(db);
			await shareStudy(db, s.owner, s.studyId, {
				email: s.ben.email,
				permission: 'view',
				dataAccess: true
			});
			const before = (await auditOf(db, s.studyId)).length;

			const plain = await listStudyParticipants(db, s.ben, s.studyId, list());
			expect(plain.ok && plain.dataAccess).toBe(true);
			expect(await auditOf(db, s.studyId)).toHaveLength(before);

			const shown = await listStudyParticipants(db, s.ben, s.studyId, list({ externalIds: true }));
			if (!shown.ok) throw new Error(shown.reason);
			expect(shown.participants.find((p) => p.id === s.p.p1)?.externalIds).toEqual([
				{ source: 'prolific', name: 'PROLIFIC_PID', value: PID },
				{ source: 'prolific', name: 'SESSION_ID', value: 'sess-1' }
			]);
			expect(shown.participants.find((p) => p.id === s.p.p2)?.externalIds).toEqual([]);

			const found = await listStudyParticipants(
				db,
				s.ben,
				s.studyId,
				list({ by: 'external', q: PID })
			);
			if (!found.ok) throw new Error(found.reason);
			expect(found.participants.map((p) => p.id)).toEqual([s.p.p1]);
			const byPrefix = await listStudyParticipants(
				db,
				s.ben,
				s.studyId,
				list({ q: s.p.p1.slice(0, -2) })
			);
			expect(byPrefix.ok && byPrefix.participants.map((p) => p.id)).toEqual([s.p.p1]);

			const audit = (await auditOf(db, s.studyId)).slice(before);
			expect(audit.map((a) => [a.action, a.userId])).toEqual([
				['participant.list', s.ben.id],
				['participant.list', s.ben.id]
			]);
			expect(audit[0]?.detail).toMatchObject({ externalIds: true, search: null, count: 5 });
			expect(audit[1]?.detail).toEqual({
				externalIds: false,
				search: 'external_id',
				count: 1,
				participantIds: [s.p.p1]
			});
			expect(JSON.stringify(audit)).not.toContain(PID);
		});

		test('the list pages by creation time and id without repeats, ties included', async () => {
			const s = await seed(db);
			const seen: string[] = [];
			let after: string | undefined;
			for (let i = 0; i < 10; i++) {
				const page = await findParticipants(db, s.studyId, {
					text: '',
					by: 'participant',
					includeExternalIds: false,
					after,
					limit: 2
				});
				seen.push(...page.participants.map((p) => p.id));
				if (!page.next) break;
				after = page.next;
			}
			const all = await findParticipants(db, s.studyId, {
				text: '',
				by: 'participant',
				includeExternalIds: false,
				limit: 50
			});
			expect(seen).toEqual(all.participants.map((p) => p.id));
			expect(new Set(seen).size).toBe(5);
		});

		test('an export holds everything about one participant, streamed, audited once with counts', async () => {
			const s = await seed(db);
			const result = await exportParticipantData(db, s.studyId, s.p.p1, s.owner);
			if (!result.ok) throw new Error(result.reason);
			expect(result.filename).toBe(`participant-${s.p.p1}.json`);
			// The audit entry is written before the first byte is read.
			const audit = await auditOf(db, s.studyId);
			expect(audit.map((a) => a.action)).toEqual(['participant.export']);
			const document = await readJson(result.body);
			expect(document.format).toBe('ensemble-participant');
			const participant = document.participant as Record<string, unknown>;
			expect(participant.id).toBe(s.p.p1);
			expect(participant.linkParams).toEqual({ utm_source: 'mail' });
			expect(participant).not.toHaveProperty('tokenHash');
			expect(JSON.stringify(document)).not.toContain(`hash-${s.p.p1}`);
			expect(document.externalIds).toEqual([
				{ source: 'prolific', name: 'PROLIFIC_PID', value: PID },
				{ source: 'prolific', name: 'SESSION_ID', value: 'sess-1' }
			]);
			expect(document.roomMemberships).toMatchObject([{ roomId: s.finishedRoom, condition: 'a' }]);
			expect((document.stageResponses as { stageId: string }[]).map((r) => r.stageId)).toEqual([
				'consent',
				'q'
			]);
			expect(document.chatMessages).toEqual([
				expect.objectContaining({ roomId: s.finishedRoom, seq: 5, text: 'I live in Lyon' })
			]);
			const events = document.roomEvents as { seq: number; name: string }[];
			// Their connection, answer, chat, goal, pick, the pause that named them, their outcome.
			expect(events.map((e) => e.seq)).toEqual([1, 3, 5, 7, 8, 9, 11]);
			expect(JSON.stringify(events)).not.toContain('p2 said');
			expect(document.telemetry).toHaveLength(3);
			const counts = {
				externalIds: 2,
				roomMemberships: 1,
				stageResponses: 2,
				chatMessages: 1,
				roomEvents: 7,
				telemetry: 3
			};
			expect(result.counts).toEqual(counts);
			expect(audit[0]).toMatchObject({
				userId: s.owner.id,
				userEmail: s.owner.email,
				studyId: s.studyId,
				detail: { participantId: s.p.p1, format: 'json', counts }
			});
			expect(JSON.stringify(audit)).not.toContain('Lyon');

			// More telemetry than one page: every row arrives once, in order.
			const big = await exportParticipantData(db, s.studyId, s.p.p2, s.owner);
			if (!big.ok) throw new Error(big.reason);
			const telemetry = (await readJson(big.body)).telemetry as { sampleId: string }[];
			expect(telemetry).toHaveLength(s.p2Telemetry);
			expect(new Set(telemetry.map((row) => row.sampleId)).size).toBe(s.p2Telemetry);
			expect(telemetry.map((row) => row.sampleId)).toEqual(
				telemetry.map((row) => row.sampleId).sort()
			);
			expect(await auditOf(db, s.studyId)).toHaveLength(2);

			expect(await exportParticipantData(db, s.studyId, 'p-nobody', s.owner)).toEqual({
				ok: false,
				reason: 'participant_not_found'
			});
		});

		test('erasing a participant of a running room is refused and changes nothing', async () => {
			const s = await seed(db);
			expect(await eraseParticipant(db, s.studyId, s.p.p3, s.owner)).toEqual({
				ok: false,
				reason: 'room_running',
				roomIds: [s.runningRoom]
			});
			expect(await db.select().from(participants).where(eq(participants.id, s.p.p3))).toHaveLength(
				1
			);
			const [chat] = await db
				.select({ payload: roomEvents.payload })
				.from(roomEvents)
				.where(and(eq(roomEvents.roomId, s.runningRoom), eq(roomEvents.seq, 2)));
			expect(chat?.payload).toMatchObject({ text: 'still here' });
			expect(
				await db.select().from(telemetrySamples).where(eq(telemetrySamples.actor, s.p.p3))
			).toHaveLength(1);
			expect(await auditOf(db, s.studyId)).toEqual([]);
		});

		test('erasure deletes the rows, redacts the events in place and audits the counts', async () => {
			const s = await seed(db);
			await shareStudy(db, s.owner, s.studyId, {
				email: s.ben.email,
				permission: 'view',
				dataAccess: true
			});
			const logBefore = await db
				.select()
				.from(roomEvents)
				.where(eq(roomEvents.roomId, s.finishedRoom))
				.orderBy(asc(roomEvents.seq));
			const auditBefore = (await auditOf(db, s.studyId)).length;

			const result = await eraseParticipant(db, s.studyId, s.p.p1, s.ben);
			const counts = {
				participants: 1,
				externalIds: 2,
				roomMemberships: 1,
				stageResponses: 2,
				telemetry: 3,
				redactedEvents: 4
			};
			expect(result).toEqual({ ok: true, counts });

			const left = async (
				table: 'participants' | 'ids' | 'members' | 'responses' | 'telemetry'
			) => {
				const query = {
					participants: () => db.select().from(participants).where(eq(participants.id, s.p.p1)),
					ids: () =>
						db
							.select()
							.from(participantExternalIds)
							.where(eq(participantExternalIds.participantId, s.p.p1)),
					members: () => db.select().from(roomMembers).where(eq(roomMembers.participantId, s.p.p1)),
					responses: () =>
						db.select().from(stageResponses).where(eq(stageResponses.participantId, s.p.p1)),
					telemetry: () =>
						db.select().from(telemetrySamples).where(eq(telemetrySamples.actor, s.p.p1))
				}[table];
				return (await query()).length;
			};
			for (const table of ['participants', 'ids', 'members', 'responses', 'telemetry'] as const) {
				expect(`${table}: ${await left(table)}`).toBe(`${table}: 0`);
			}
			// The other member's rows are untouched.
			expect(
				await db.select().from(telemetrySamples).where(eq(telemetrySamples.actor, s.p.p2))
			).toHaveLength(s.p2Telemetry);
			expect(
				await db.select().from(stageResponses).where(eq(stageResponses.participantId, s.p.p2))
			).toHaveLength(1);
			expect(
				await db
					.select()
					.from(participantExternalIds)
					.where(inArray(participantExternalIds.participantId, [s.p.p3]))
			).toHaveLength(1);

			// The log keeps every event and seq; only p1's content changed, as redactPayload says.
			const logAfter = await db
				.select()
				.from(roomEvents)
				.where(eq(roomEvents.roomId, s.finishedRoom))
				.orderBy(asc(roomEvents.seq));
			expect(logAfter.map((e) => e.seq)).toEqual(logBefore.map((_, i) => i + 1));
			const [room] = await db.select().from(rooms).where(eq(rooms.id, s.finishedRoom));
			expect(room?.headSeq).toBe(logBefore.length);
			for (const [i, event] of logAfter.entries()) {
				const original = logBefore[i]!;
				expect([event.seq, event.name, event.actor, event.at]).toEqual([
					original.seq,
					original.name,
					original.actor,
					original.at
				]);
				expect(event.payload).toEqual(redactPayload(original.name, original.payload, s.p.p1));
			}
			const changed = logAfter.filter(
				(e, i) => JSON.stringify(e.payload) !== JSON.stringify(logBefore[i]!.payload)
			);
			expect(changed.map((e) => e.name)).toEqual([
				'stage.submitted',
				'chat.sent',
				'goal.set',
				'group_choice.picked'
			]);
			const text = JSON.stringify(logAfter);
			for (const secret of ['Lyon', 'I am 34', 'finish thesis']) expect(text).not.toContain(secret);
			expect(text).toContain('p2 said');
			expect(text).toContain('hello');

			const audit = (await auditOf(db, s.studyId)).slice(auditBefore);
			expect(audit.map((a) => [a.action, a.userId, a.detail])).toEqual([
				['participant.erase', s.ben.id, { participantId: s.p.p1, counts }]
			]);

			// Gone is gone: a second erasure or export finds nobody, and writes no audit entry.
			expect(await eraseParticipant(db, s.studyId, s.p.p1, s.ben)).toEqual({
				ok: false,
				reason: 'participant_not_found'
			});
			expect(await auditOf(db, s.studyId)).toHaveLength(auditBefore + 1);
		});

		test('a waiting participant (no room) is erased under the matching lock', async () => {
			const s = await seed(db);
			const result = await eraseParticipant(db, s.studyId, s.p.p4, s.owner);
			expect(result).toEqual({
				ok: true,
				counts: {
					participants: 1,
					externalIds: 0,
					roomMemberships: 0,
					stageResponses: 0,
					telemetry: 0,
					redactedEvents: 0
				}
			});
			const [{ n }] = (await db
				.select({ n: sql<number>`count(*)::int`.mapWith(Number) })
				.from(participants)
				.where(eq(participants.studyId, s.studyId))) as [{ n: number }];
			expect(n).toBe(4);
		});

		test('the audit log: newest first, keyset pages, readable by anyone who sees the study', async () => {
			const s = await seed(db);
			for (const id of [s.p.p1, s.p.p2, s.p.p5]) {
				const result = await exportParticipantData(db, s.studyId, id, s.owner);
				if (!result.ok) throw new Error(result.reason);
				await result.body.cancel();
			}
			await eraseParticipant(db, s.studyId, s.p.p5, s.owner);
			const everything = await listAuditEvents(db, s.studyId, { limit: 50 });
			expect(everything.next).toBeNull();
			expect(
				everything.events.map((e) => [
					e.action,
					(e.detail as { participantId: string }).participantId
				])
			).toEqual([
				['participant.erase', s.p.p5],
				['participant.export', s.p.p5],
				['participant.export', s.p.p2],
				['participant.export', s.p.p1]
			]);
			const paged: number[] = [];
			let before: number | undefined;
			for (;;) {
				const page = await listAuditEvents(db, s.studyId, { before, limit: 3 });
				paged.push(...page.events.map((e) => e.id));
				if (page.next === null) break;
				before = page.next;
			}
			expect(paged).toEqual(everything.events.map((e) => e.id));

			// A viewer account without the data permission may read it; a stranger may not.
			const seen = await readStudyAudit(db, s.vera, s.studyId, { limit: 2 });
			expect(seen.ok && seen.events.length).toBe(2);
			expect(seen.ok && seen.next).toBe(everything.events[1]!.id);
			expect(await readStudyAudit(db, s.stranger, s.studyId, { limit: 2 })).toEqual({
				ok: false,
				reason: 'not_found'
			});
			// Reading the audit log is not itself an access to data.
			expect((await listAuditEvents(db, s.studyId, { limit: 50 })).events).toHaveLength(4);
		});
	});
}
