import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import postgres from 'postgres';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
	type Outcome,
	type Stage
} from '../../src/lib/study';
import type { StudyDefinition } from '../../src/lib/study';
import { nextMessage, opened, openSocket } from '../support/app';
import { joinStudy, respondToStage } from '../support/journey';
import { requireService } from '../support/services';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type AdminApi,
	type StudyServer
} from '../support/study-server';

// Every way out of a study, run at once on one server with Postgres, then one sweep of the
// database: each participant has exactly one outcome; each room member exactly one
// `member.outcome` event, matching the participants table; and each data stage a member was in
// has exactly one row in stage_responses — the answer, or `incomplete` — matching the log.
setDefaultTimeout(120_000);

const pg = requireService('TEST_DATABASE_URL', 'outcome sweep on Postgres');

const fast = { thinkMs: [10, 60] as [number, number], chat: false, seed: 11 };

function study(
	groupSize: number,
	stages: Stage[],
	edit: (definition: StudyDefinition) => void = () => {}
): StudyDefinition {
	const definition = createBlankStudy('Sweep');
	definition.settings.session = {
		mode: 'matched',
		groupSize,
		minGroupSize: groupSize,
		lobbyTimeoutSeconds: 300
	};
	definition.stages = stages;
	edit(definition);
	return definition;
}

const consent = (): Stage => {
	const stage = createStage('consent', []);
	if (stage.type === 'consent') stage.content.markdown = 'We record your answers.';
	return { ...stage, id: 'consent' };
};
const questionnaire = (): Stage => {
	const stage = createStage('questionnaire', []);
	if (stage.type === 'questionnaire') {
		stage.content.items = [{ ...createQuestionItem('short_text', []), id: 'q', prompt: 'Why?' }];
	}
	return { ...stage, id: 'about' };
};
const pick = (dropout: Stage['dropout'] = { policy: 'end' }): Stage => {
	const stage = createStage('group_choice', []);
	if (stage.type === 'group_choice') stage.content.prompt = 'Which one?';
	return { ...stage, id: 'pick', dropout };
};
/** Holds the room until the experimenter moves it on (or ends it). */
const hold = (): Stage => ({
	...createStage('instructions', []),
	id: 'hold',
	advance: 'experimenter',
	durationSeconds: null
});
const end = (outcome: Outcome = 'completed'): Stage => {
	const stage = createStage('end', []);
	if (stage.type === 'end') stage.content.outcome = outcome;
	return { ...stage, id: 'end' };
};

type LogRow = { room_id: string; name: string; payload: Record<string, unknown> };

describe.skipIf(!pg.available)('every outcome path, swept in the database', () => {
	let setup: StudyServer;
	let sql: postgres.Sql;
	let api: AdminApi;

	beforeAll(async () => {
		setup = await startStudyServer(pg.available ? pg.url : null);
		sql = setup.sql!;
		api = createAdminApi(setup.server, setup.admin);
	});
	afterAll(() => setup?.stop());

	const bots = (id: string, count: number, extra: Record<string, unknown> = {}) =>
		api('POST', `/api/studies/${id}/bots`, { count, ...fast, ...extra });

	async function waitUntil(what: string, check: () => Promise<boolean>, ms = 60_000) {
		const deadline = Date.now() + ms;
		while (!(await check())) {
			if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
			await Bun.sleep(250);
		}
	}

	const outcomesOf = async (studyId: string) =>
		(
			await sql<{ outcome: string | null }[]>`
				select outcome from participants where study_id = ${studyId} order by outcome`
		).map((row) => row.outcome);

	/** The experimenter ends the study's one room over their own socket. */
	async function endRoom(studyId: string, outcome: Outcome): Promise<void> {
		let roomId: string | undefined;
		await waitUntil('the room to form', async () => {
			const rows = await sql<{ room_id: string | null }[]>`
				select room_id from participants where study_id = ${studyId} and room_id is not null`;
			roomId = rows[0]?.room_id ?? undefined;
			return rows.length === 2;
		});
		// Both bots are connected to the room (bots leave experimenter stages to the experimenter).
		await waitUntil('both bots to connect', async () => {
			const rows = await sql`select 1 from room_events where room_id = ${roomId!}
				and name = 'member.connection' and payload->>'connected' = 'true'`;
			return rows.length >= 2;
		});
		const socket = openSocket(setup.server, `/realtime/rooms/${roomId}`, {
			cookie: setup.admin
		});
		await opened(socket);
		const joined = nextMessage(socket, (m: { type: string }) => m.type === 'joined');
		socket.send(JSON.stringify({ type: 'join', v: 1, lastSeq: 0 }));
		await joined;
		const ack = nextMessage(socket, (m: { type: string }) => m.type === 'ack');
		socket.send(
			JSON.stringify({ type: 'command', id: 'end-1', name: 'room.end', payload: { outcome } })
		);
		await ack;
		socket.close();
	}

	test('completed, no_consent, lobby_timeout, dropout (end and continue), screened_out, technical_error', async () => {
		const publish = (definition: StudyDefinition, title: string) =>
			publishStudy(api, definition, title);
		const completed = await publish(study(2, [questionnaire(), pick(), end()]), 'completed');
		const noConsent = await publish(study(2, [consent(), pick(), end()]), 'no consent');
		const lonely = await publish(
			study(2, [pick(), end()], (d) => {
				if (d.settings.session.mode === 'matched') d.settings.session.lobbyTimeoutSeconds = 10;
			}),
			'lobby timeout'
		);
		const endsOnDropout = await publish(study(2, [pick(), end()]), 'dropout ends');
		const goesOn = await publish(
			study(2, [pick({ policy: 'continue', minMembers: 1 }), end()]),
			'dropout continues'
		);
		const screened = await publish(study(1, [questionnaire(), end('screened_out')]), 'screened');
		const aborted = await publish(study(2, [hold(), pick(), end()]), 'technical error');

		await bots(completed.id, 2);
		await bots(lonely.id, 1);
		for (const target of [endsOnDropout, goesOn]) {
			await bots(target.id, 1);
			await bots(target.id, 1, { dropoutProbability: 1 });
		}
		await bots(screened.id, 1);
		await bots(aborted.id, 2);
		// A person who declines consent, through the link as a browser does.
		const link = { base: setup.server.url, origin: setup.server.origin };
		const person = await joinStudy(link, noConsent.slug);
		await respondToStage(link, noConsent.slug, person, 'consent', {
			type: 'consent',
			agreed: false
		});
		await endRoom(aborted.id, 'technical_error');

		const expected: [string, (string | null)[]][] = [
			[completed.id, ['completed', 'completed']],
			[noConsent.id, ['no_consent']],
			[lonely.id, ['lobby_timeout']],
			[endsOnDropout.id, ['dropout', 'dropout']],
			[goesOn.id, ['completed', 'dropout']],
			[screened.id, ['screened_out']],
			[aborted.id, ['technical_error', 'technical_error']]
		];
		// The dropout policies act after the 10 s presence grace; lobby timeout after 10 s.
		for (const [id, outcomes] of expected) {
			await waitUntil(`outcomes of ${id}`, async () => (await outcomesOf(id)).every((o) => o));
			expect(await outcomesOf(id)).toEqual(outcomes);
		}
		const ids = expected.map(([id]) => id);

		// 1. Every participant: one outcome, finished.
		const unfinished = await sql`select id from participants
			where study_id in ${sql(ids)} and (outcome is null or status <> 'finished')`;
		expect([...unfinished]).toEqual([]);

		// 2. Every room member: exactly one member.outcome event, the same as the table says.
		const members = await sql<{ room_id: string; participant_id: string; outcome: string }[]>`
			select m.room_id, m.participant_id, p.outcome from room_members m
			join participants p on p.id = m.participant_id where p.study_id in ${sql(ids)}`;
		// Two completed, two and two in the dropout rooms, one screened out, two ended.
		expect(members.length).toBe(9);
		const roomIds = [...new Set(members.map((m) => m.room_id))];
		const log = await sql<LogRow[]>`select room_id, name, payload from room_events
			where room_id in ${sql(roomIds)} order by room_id, seq`;
		for (const member of members) {
			const mine = log.filter(
				(e) =>
					e.room_id === member.room_id &&
					e.name === 'member.outcome' &&
					e.payload.memberId === member.participant_id
			);
			expect(mine.map((e) => e.payload.outcome)).toEqual([member.outcome]);
		}

		// 3. Room stages: the rows are exactly what the log says, once each.
		const key = (room: string, member: unknown, stage: unknown) => `${room}/${member}/${stage}`;
		const answeredInLog = new Set(
			log
				.filter((e) => e.name === 'stage.submitted' || e.name === 'group_choice.picked')
				.map((e) => key(e.room_id, e.payload.memberId, e.payload.stageId))
		);
		const incompleteInLog = log
			.filter((e) => e.name === 'stage.incomplete')
			.map((e) => key(e.room_id, e.payload.memberId, e.payload.stageId));
		const rows = await sql<
			{ room_id: string; participant_id: string; stage_id: string; status: string }[]
		>`select room_id, participant_id, stage_id, status from stage_responses
			where room_id in ${sql(roomIds)}`;
		const rowKeys = rows.map((r) => key(r.room_id, r.participant_id, r.stage_id));
		expect(new Set(rowKeys).size).toBe(rowKeys.length);
		expect(
			rows
				.filter((r) => r.status === 'submitted')
				.map((r) => key(r.room_id, r.participant_id, r.stage_id))
				.sort()
		).toEqual([...answeredInLog].sort());
		expect(
			rows
				.filter((r) => r.status === 'incomplete')
				.map((r) => key(r.room_id, r.participant_id, r.stage_id))
				.sort()
		).toEqual([...incompleteInLog].sort());

		// The leavers' group choice is incomplete, with why; so is the aborted room's.
		const incomplete = await sql<{ study_id: string; stage_id: string; reason: string }[]>`
			select study_id, stage_id, incomplete_reason as reason from stage_responses
			where study_id in ${sql(ids)} and status = 'incomplete'`;
		const named = new Map([
			[endsOnDropout.id, 'dropout ends'],
			[goesOn.id, 'dropout continues']
		]);
		expect(
			incomplete.map((r) => `${named.get(r.study_id)}: ${r.stage_id} ${r.reason}`).sort()
		).toEqual(['dropout continues: pick dropout', 'dropout ends: pick dropout']);
	});
});
