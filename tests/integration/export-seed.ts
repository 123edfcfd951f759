/**
 * Research data written straight into a database for the export tests and bench/export.ts:
 * a small, fully known study (every kind of row, two versions, bots and people, a video with
 * ratings and sync samples) and a bulk room log of any size. Rows are inserted in chunks so
 * even 200 000 events never sit in memory at once.
 */
import { eq } from 'drizzle-orm';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
	hashStudyDefinition,
	type Stage,
	type StudyDefinition
} from '../../src/lib/study';
import type { Database } from '../../src/lib/server/db';
import {
	participantExternalIds,
	participants,
	roomEvents,
	roomMembers,
	rooms,
	stageResponses,
	studies,
	studyVersions,
	telemetrySamples,
	users
} from '../../src/lib/server/db/schema';

/** The known study: consent and a questionnaire alone, then a video, chat, group choice, end. */
export function makeExportStudy(title = 'Export study'): StudyDefinition {
	const study = createBlankStudy(title);
	study.settings.outcomes.completed.completionCode = 'DONE42';
	const consent: Stage = { ...createStage('consent', []), id: 'consent', title: 'Consent' };
	const survey = { ...createStage('questionnaire', []), id: 'survey', title: 'About you' } as Stage;
	if (survey.type === 'questionnaire') {
		survey.advance = 'all_submitted';
		survey.durationSeconds = null;
		survey.content.items = [
			{ ...createQuestionItem('likert', []), id: 'mood', prompt: 'How is your mood?' },
			{ ...createQuestionItem('checkboxes', []), id: 'pets', prompt: 'Which pets?' },
			{ ...createQuestionItem('short_text', []), id: 'name', prompt: 'A word, "quoted", or two' }
		];
	}
	const video = { ...createStage('video', []), id: 'clip', title: 'Watch' } as Stage;
	const chat = { ...createStage('chat', []), id: 'talk', title: 'Talk' } as Stage;
	const pick = { ...createStage('group_choice', []), id: 'pick', title: 'Pick' } as Stage;
	const end = { ...createStage('end', []), id: 'end', title: 'Thanks' } as Stage;
	study.stages = [consent, survey, video, chat, pick, end];
	return study;
}

/** Creates an owner account; returns its id (tests that go through HTTP make their own admin). */
export async function seedOwner(db: Database, id = 'owner-export'): Promise<string> {
	await db.insert(users).values({
		id,
		email: `${id}@test.invalid`,
		name: 'Owner',
		passwordHash: 'x',
		role: 'researcher'
	});
	return id;
}

/** A study with published `definitions` (version 1, 2, …). */
export async function seedStudy(
	db: Database,
	ownerId: string,
	id: string,
	definitions: StudyDefinition[]
): Promise<void> {
	const now = new Date('2025-03-01T09:00:00Z');
	await db.insert(studies).values({
		id,
		slug: `slug-${id}`,
		ownerId,
		title: definitions[0]!.settings.title,
		status: 'live',
		draft: definitions.at(-1)!,
		createdAt: now,
		updatedAt: now,
		latestVersion: definitions.length
	});
	await db.insert(studyVersions).values(
		definitions.map((definition, i) => ({
			studyId: id,
			version: i + 1,
			definition,
			contentHash: hashStudyDefinition(definition),
			publishedAt: now
		}))
	);
}

export type SeededEvent = {
	name: string;
	actor: string;
	payload: Record<string, unknown>;
	at: number;
};

/**
 * The known scenario, at fixed times from 2025-03-01 10:00 UTC:
 * - room A (version 1): people p1 and p2 (p1 with a Prolific id), completed;
 * - room B (version 2): bots b1 and b2, b2 dropped out;
 * - p3 (version 1) declined consent, never in a room; p4 (version 2) is still waiting.
 */
export async function seedScenario(db: Database, studyId: string) {
	const t0 = Date.parse('2025-03-01T10:00:00Z');
	const at = (s: number) => new Date(t0 + s * 1000);
	const base = { studyId, tokenHash: '', linkParams: {} as Record<string, string> };
	const people = [
		{
			id: 'p1',
			version: 1,
			isBot: false,
			outcome: 'completed',
			roomId: 'room-a',
			role: 'participant',
			condition: null,
			createdAt: at(0),
			outcomeAt: at(300),
			status: 'finished',
			linkParams: { src: 'mail', PROLIFIC_PID: 'PIDP1' }
		},
		{
			id: 'p2',
			version: 1,
			isBot: false,
			outcome: 'completed',
			roomId: 'room-a',
			role: 'participant',
			condition: null,
			createdAt: at(5),
			outcomeAt: at(300),
			status: 'finished'
		},
		{
			id: 'b1',
			version: 2,
			isBot: true,
			outcome: 'completed',
			roomId: 'room-b',
			role: 'participant',
			condition: null,
			createdAt: at(1000),
			outcomeAt: at(1300),
			status: 'finished'
		},
		{
			id: 'b2',
			version: 2,
			isBot: true,
			outcome: 'dropout',
			roomId: 'room-b',
			role: 'participant',
			condition: null,
			createdAt: at(1001),
			outcomeAt: at(1200),
			status: 'finished'
		},
		{
			id: 'p3',
			version: 1,
			isBot: false,
			outcome: 'no_consent',
			roomId: null,
			role: null,
			condition: null,
			createdAt: at(2000),
			outcomeAt: at(2010),
			status: 'finished'
		},
		{
			id: 'p4',
			version: 2,
			isBot: false,
			outcome: null,
			roomId: null,
			role: null,
			condition: null,
			createdAt: at(3000),
			outcomeAt: null,
			status: 'waiting'
		}
	] as const;
	await db.insert(rooms).values([
		{ id: 'room-a', kind: 'study', studyId, studyVersion: 1, headSeq: 0, createdAt: at(60) },
		{ id: 'room-b', kind: 'study', studyId, studyVersion: 2, headSeq: 0, createdAt: at(1060) }
	]);
	await db.insert(participants).values(
		people.map((p) => ({
			...base,
			id: p.id,
			tokenHash: `hash-${p.id}`,
			version: p.version,
			isBot: p.isBot,
			outcome: p.outcome,
			outcomeAt: p.outcomeAt,
			status: p.status,
			roomId: p.roomId,
			role: p.role,
			condition: p.condition,
			createdAt: p.createdAt,
			lastSeenAt: p.outcomeAt ?? p.createdAt,
			linkParams: 'linkParams' in p ? { ...p.linkParams } : {}
		}))
	);
	await db
		.insert(participantExternalIds)
		.values([{ participantId: 'p1', source: 'prolific', name: 'PROLIFIC_PID', value: 'PIDP1' }]);
	await db.insert(roomMembers).values([
		{
			roomId: 'room-a',
			participantId: 'p1',
			role: 'participant',
			condition: null,
			joinedAt: at(60)
		},
		{
			roomId: 'room-a',
			participantId: 'p2',
			role: 'participant',
			condition: null,
			joinedAt: at(60)
		},
		{
			roomId: 'room-b',
			participantId: 'b1',
			role: 'participant',
			condition: null,
			joinedAt: at(1060)
		},
		{
			roomId: 'room-b',
			participantId: 'b2',
			role: 'participant',
			condition: null,
			joinedAt: at(1060)
		}
	]);

	// Pre-room answers of everyone who got that far.
	const survey = (mood: number, pets: string[], name: string) => ({
		type: 'questionnaire',
		answers: { name, mood, pets },
		rtMs: 4200
	});
	const preRoom = [
		['p1', 'consent', 0, { type: 'consent', agreed: true }, 10],
		['p1', 'survey', 1, survey(5, ['a'], 'calm, "ok"\nthen'), 20],
		['p2', 'consent', 0, { type: 'consent', agreed: true }, 15],
		['p2', 'survey', 1, survey(3, [], 'x'), 25],
		['b1', 'consent', 0, { type: 'consent', agreed: true }, 1010],
		['b1', 'survey', 1, survey(7, ['a', 'b'], 'bot'), 1020],
		['b2', 'consent', 0, { type: 'consent', agreed: true }, 1011],
		['b2', 'survey', 1, survey(1, ['b'], 'bot2'), 1021],
		['p3', 'consent', 0, { type: 'consent', agreed: false }, 2010],
		['p4', 'consent', 0, { type: 'consent', agreed: true }, 3010]
	] as const;
	await db.insert(stageResponses).values(
		preRoom.map(([participantId, stageId, stageIndex, response, s]) => ({
			participantId,
			roomId: null,
			studyId,
			version: people.find((p) => p.id === participantId)!.version,
			stageId,
			stageIndex,
			response,
			submittedAt: at(s)
		}))
	);
	await db.insert(stageResponses).values([
		{
			participantId: 'p1',
			roomId: 'room-a',
			studyId,
			version: 1,
			stageId: 'pick',
			stageIndex: 4,
			response: { option: 'a' },
			submittedAt: at(250)
		},
		{
			participantId: 'p2',
			roomId: 'room-a',
			studyId,
			version: 1,
			stageId: 'pick',
			stageIndex: 4,
			response: { option: 'b' },
			submittedAt: at(251)
		},
		{
			participantId: 'b1',
			roomId: 'room-b',
			studyId,
			version: 2,
			stageId: 'pick',
			stageIndex: 4,
			response: { option: 'a' },
			submittedAt: at(1250)
		},
		{
			participantId: 'b2',
			roomId: 'room-b',
			studyId,
			version: 2,
			stageId: 'pick',
			stageIndex: 4,
			status: 'incomplete',
			incompleteReason: 'dropout',
			response: null,
			submittedAt: at(1200)
		}
	]);

	// Room A: the video (scheduled to play from 0 at +70 s), chat, the pick, the end.
	const schedule = {
		mediaId: 'm1',
		playing: true,
		anchorMediaTime: 0,
		anchorServerTime: t0 + 70_000,
		rate: 1
	};
	const logA: SeededEvent[] = [
		{
			name: 'member.connection',
			actor: 'p1',
			payload: { memberId: 'p1', connected: true },
			at: t0 + 61_000
		},
		{
			name: 'media.buffered',
			actor: 'p1',
			payload: { stageId: 'clip', memberId: 'p1', at: t0 + 65_000 },
			at: t0 + 65_000
		},
		{
			name: 'playback.scheduled',
			actor: 'system',
			payload: { stageId: 'clip', schedule, cause: 'all_buffered', by: null, at: t0 + 66_000 },
			at: t0 + 66_000
		},
		{
			name: 'stage.submitted',
			actor: 'p2',
			payload: {
				stageId: 'clip',
				memberId: 'p2',
				response: { type: 'continue' },
				at: t0 + 100_000
			},
			at: t0 + 100_000
		},
		{
			name: 'stage.advanced',
			actor: 'system',
			payload: {
				fromStageId: 'clip',
				toStageId: 'talk',
				toIndex: 3,
				at: t0 + 130_000,
				deadline: null,
				cause: 'timer'
			},
			at: t0 + 130_000
		},
		{
			name: 'chat.sent',
			actor: 'p1',
			payload: { id: 1, stageId: 'talk', memberId: 'p1', text: 'hello, "you"', at: t0 + 140_000 },
			at: t0 + 140_000
		},
		{
			name: 'chat.sent',
			actor: 'p2',
			payload: { id: 2, stageId: 'talk', memberId: 'p2', text: 'hi\nthere', at: t0 + 141_000 },
			at: t0 + 141_000
		},
		{
			name: 'stage.advanced',
			actor: 'user-x',
			payload: {
				fromStageId: 'talk',
				toStageId: 'pick',
				toIndex: 4,
				at: t0 + 200_000,
				deadline: null,
				cause: 'experimenter'
			},
			at: t0 + 200_000
		},
		{
			name: 'group_choice.picked',
			actor: 'p1',
			payload: { stageId: 'pick', memberId: 'p1', option: 'a', at: t0 + 250_000 },
			at: t0 + 250_000
		},
		{
			name: 'group_choice.picked',
			actor: 'p2',
			payload: { stageId: 'pick', memberId: 'p2', option: 'b', at: t0 + 251_000 },
			at: t0 + 251_000
		},
		{
			name: 'member.outcome',
			actor: 'system',
			payload: { memberId: 'p1', outcome: 'completed', at: t0 + 300_000 },
			at: t0 + 300_000
		},
		{
			name: 'member.outcome',
			actor: 'system',
			payload: { memberId: 'p2', outcome: 'completed', at: t0 + 300_000 },
			at: t0 + 300_000
		},
		{
			name: 'room.finished',
			actor: 'system',
			payload: { at: t0 + 300_000, outcome: 'completed' },
			at: t0 + 300_000
		}
	];
	// Room B: a bot chats, b2 drops out, b1 completes.
	const logB: SeededEvent[] = [
		{
			name: 'stage.advanced',
			actor: 'system',
			payload: {
				fromStageId: 'clip',
				toStageId: 'talk',
				toIndex: 3,
				at: t0 + 1100_000,
				deadline: null,
				cause: 'timer'
			},
			at: t0 + 1100_000
		},
		{
			name: 'chat.sent',
			actor: 'b1',
			payload: { id: 1, stageId: 'talk', memberId: 'b1', text: 'beep', at: t0 + 1110_000 },
			at: t0 + 1110_000
		},
		{
			name: 'stage.incomplete',
			actor: 'system',
			payload: { stageId: 'pick', memberId: 'b2', reason: 'dropout', at: t0 + 1200_000 },
			at: t0 + 1200_000
		},
		{
			name: 'member.outcome',
			actor: 'system',
			payload: { memberId: 'b2', outcome: 'dropout', at: t0 + 1200_000 },
			at: t0 + 1200_000
		},
		{
			name: 'group_choice.picked',
			actor: 'b1',
			payload: { stageId: 'pick', memberId: 'b1', option: 'a', at: t0 + 1250_000 },
			at: t0 + 1250_000
		},
		{
			name: 'member.outcome',
			actor: 'system',
			payload: { memberId: 'b1', outcome: 'completed', at: t0 + 1300_000 },
			at: t0 + 1300_000
		}
	];
	await appendEvents(db, 'room-a', logA);
	await appendEvents(db, 'room-b', logB);

	// Telemetry: p1 rates the clip and reports sync quality; b1 reports A/V quality.
	const sync = (errorMs: number, phase: string, offsetMs: number) => ({
		stageId: 'clip',
		errorMs,
		rate: 1,
		offsetMs,
		rttMs: 40,
		uncertaintyMs: 2,
		phase,
		seeks: 1
	});
	await db.insert(telemetrySamples).values([
		{
			roomId: 'room-a',
			actor: 'p1',
			sampleId: 's3',
			kind: 'video.rating',
			clientTime: t0 + 80_500,
			receivedAt: at(80.6),
			value: { stageId: 'clip', mediaTime: 10.5, serverTime: t0 + 80_500, value: 0.75 }
		},
		{
			roomId: 'room-a',
			actor: 'p1',
			sampleId: 's1',
			kind: 'sync.quality',
			clientTime: t0 + 75_000,
			receivedAt: at(75.1),
			value: sync(-12, 'locked', 100)
		},
		{
			roomId: 'room-a',
			actor: 'p1',
			sampleId: 's2',
			kind: 'sync.quality',
			clientTime: t0 + 76_000,
			receivedAt: at(76.1),
			value: sync(30, 'correcting', 110)
		},
		{
			roomId: 'room-a',
			actor: 'p1',
			sampleId: 's4',
			kind: 'sync.quality',
			clientTime: t0 + 77_000,
			receivedAt: at(77.1),
			value: sync(900, 'seeking', 120)
		},
		{
			roomId: 'room-b',
			actor: 'b1',
			sampleId: 'a1',
			kind: 'av.quality',
			clientTime: t0 + 1100_000,
			receivedAt: at(1100),
			value: {
				stageId: 'talk',
				connectionQuality: 'good',
				tracks: [
					{ kind: 'video', direction: 'receive', bitrateKbps: 800, packetsLost: 2, jitterMs: 5 }
				]
			}
		},
		{
			roomId: 'room-b',
			actor: 'b1',
			sampleId: 'a2',
			kind: 'av.quality',
			clientTime: t0 + 1105_000,
			receivedAt: at(1105),
			value: {
				stageId: 'talk',
				connectionQuality: 'poor',
				tracks: [
					{ kind: 'video', direction: 'receive', bitrateKbps: 200, packetsLost: 3, jitterMs: 40 }
				]
			}
		}
	]);
	return { t0, people, logA, logB };
}

/** Appends events to a room's log with consecutive seqs and moves its head. */
export async function appendEvents(
	db: Database,
	roomId: string,
	events: SeededEvent[]
): Promise<void> {
	if (events.length === 0) return;
	await db.insert(roomEvents).values(
		events.map((event, i) => ({
			roomId,
			seq: i + 1,
			at: new Date(event.at),
			actor: event.actor,
			name: event.name,
			payload: event.payload
		}))
	);
	await db.update(rooms).set({ headSeq: events.length }).where(eq(rooms.id, roomId));
}

/**
 * A bulk room log for memory and throughput checks: `rooms` rooms of `eventsPerRoom` chat
 * events each (with `textBytes` of text), two members per room, inserted 1000 rows at a time.
 */
export async function seedBulkEvents(
	db: Database,
	input: {
		studyId: string;
		version: number;
		rooms: number;
		eventsPerRoom: number;
		textBytes: number;
	}
): Promise<number> {
	const t0 = Date.parse('2025-03-02T10:00:00Z');
	const text = 'x'.repeat(input.textBytes);
	for (let r = 0; r < input.rooms; r++) {
		const roomId = `bulk-${r}`;
		const members = [`bulk-${r}-a`, `bulk-${r}-b`];
		await db.insert(rooms).values({
			id: roomId,
			kind: 'study',
			studyId: input.studyId,
			studyVersion: input.version,
			headSeq: 0,
			createdAt: new Date(t0 + r * 1000)
		});
		await db.insert(participants).values(
			members.map((id) => ({
				id,
				studyId: input.studyId,
				version: input.version,
				tokenHash: `hash-${id}`,
				status: 'finished' as const,
				roomId,
				isBot: true,
				outcome: 'completed' as const,
				createdAt: new Date(t0 + r * 1000),
				lastSeenAt: new Date(t0 + r * 1000)
			}))
		);
		await db.insert(roomMembers).values(
			members.map((participantId) => ({
				roomId,
				participantId,
				joinedAt: new Date(t0 + r * 1000)
			}))
		);
		const CHUNK = 1000;
		for (let from = 0; from < input.eventsPerRoom; from += CHUNK) {
			const count = Math.min(CHUNK, input.eventsPerRoom - from);
			await db.insert(roomEvents).values(
				Array.from({ length: count }, (_, i) => {
					const seq = from + i + 1;
					const memberId = members[seq % 2]!;
					return {
						roomId,
						seq,
						at: new Date(t0 + r * 1000 + seq * 10),
						actor: memberId,
						name: 'chat.sent',
						payload: { id: seq, stageId: 'talk', memberId, text, at: t0 + seq * 10 }
					};
				})
			);
		}
		await db.update(rooms).set({ headSeq: input.eventsPerRoom }).where(eq(rooms.id, roomId));
	}
	return input.rooms * input.eventsPerRoom;
}
