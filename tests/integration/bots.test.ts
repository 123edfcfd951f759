import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import postgres from 'postgres';
import { checkAnswers } from '../../src/lib/study';
import { startBot } from '../../src/lib/server/bots/bot';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
	type DropoutPolicy,
	type Stage,
	type StudyDefinition
} from '../../src/lib/study';
import { requireService } from '../support/services';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type AdminApi,
	type StudyServer
} from '../support/study-server';
import { type RunningServer } from '../support/server';

// Bots on the built server: started through the API in the server's own process, they take
// the study link like participants (Start, pre-room stages, waiting room, room socket) and
// end with outcomes, flagged as bots, each response stored once.
setDefaultTimeout(90_000);

type BotRow = {
	participantId: string;
	status: string;
	outcome: string | null;
	roomId: string | null;
	answered: string[];
};

/** A matched study of `groupSize` whose room runs `roomStages` (the last one must be `end`). */
function makeStudy(groupSize: number, preRoom: Stage[], roomStages: Stage[]): StudyDefinition {
	const study = createBlankStudy('Bots');
	study.settings.session = {
		mode: 'matched',
		groupSize,
		minGroupSize: groupSize,
		lobbyTimeoutSeconds: 300
	};
	study.stages = [...preRoom, ...roomStages];
	return study;
}

/** A self-paced questionnaire with one item of each kind (it runs before the room). */
function questionnaire(): Stage {
	const stage = createStage('questionnaire', []);
	if (stage.type === 'questionnaire') {
		const kinds = ['likert', 'choice', 'checkboxes', 'slider', 'number', 'short_text'] as const;
		stage.content.items = kinds.map((kind, i) => ({
			...createQuestionItem(kind, []),
			id: `q${i}`,
			prompt: `Question ${i}`
		}));
	}
	return stage;
}

function groupChoice(dropout: DropoutPolicy = { policy: 'end' }): Stage {
	const stage = createStage('group_choice', []);
	if (stage.type === 'group_choice') stage.content.prompt = 'Which one?';
	return { ...stage, id: 'pick', dropout };
}

const end = (): Stage => ({ ...createStage('end', []), id: 'end' });

const pg = requireService('TEST_DATABASE_URL', 'bot tests on Postgres');
const targets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

for (const target of targets) {
	describe.skipIf(!target.available)(`bots on ${target.name}`, () => {
		let setup: StudyServer;
		let server: RunningServer;
		let admin: string;
		let sql: postgres.Sql | null = null;
		let api: AdminApi;

		beforeAll(async () => {
			setup = await startStudyServer(target.postgres && pg.available ? pg.url : null);
			({ server, admin, sql } = setup);
			api = createAdminApi(server, admin);
		});
		afterAll(() => setup?.stop());

		async function call(method: string, path: string, body?: unknown): Promise<Response> {
			return fetch(`${server.url}${path}`, {
				method,
				headers: {
					cookie: admin,
					origin: server.origin,
					...(body === undefined ? {} : { 'content-type': 'application/json' })
				},
				body: body === undefined ? undefined : JSON.stringify(body)
			});
		}

		const publish = (definition: StudyDefinition) => publishStudy(api, definition, 'Bots');

		const listBots = async (id: string) =>
			(await api<{ bots: BotRow[] }>('GET', `/api/studies/${id}/bots`)).bots;

		/** Polls the bots API until `count` bots have an outcome (or the time is up). */
		async function waitForOutcomes(id: string, count: number, ms = 40_000): Promise<BotRow[]> {
			const deadline = Date.now() + ms;
			let bots = await listBots(id);
			while (bots.filter((b) => b.outcome !== null).length < count && Date.now() < deadline) {
				await Bun.sleep(200);
				bots = await listBots(id);
			}
			return bots;
		}

		const fast = { thinkMs: [10, 60] as [number, number], chat: false, seed: 7 };

		test('only editors of a live study start bots, at most 63 at once', async () => {
			const draft = await api<{ id: string }>('POST', '/api/studies', { title: 'Draft' });
			const notLive = await call('POST', `/api/studies/${draft.id}/bots`, { count: 1 });
			expect(notLive.status).toBe(409);
			expect(((await notLive.json()) as { error: string }).error).toBe('not_live');
			const study = await publish(makeStudy(2, [], [groupChoice(), end()]));
			for (const count of [0, 64, 1.5]) {
				const bad = await call('POST', `/api/studies/${study.id}/bots`, { count });
				expect(bad.status).toBe(400);
			}
			const anonymous = await fetch(`${server.url}/api/studies/${study.id}/bots`, {
				method: 'POST',
				headers: { origin: server.origin, 'content-type': 'application/json' },
				body: JSON.stringify({ count: 1 })
			});
			expect(anonymous.status).toBe(401);
			const missing = await call('POST', '/api/studies/nope/bots', { count: 1 });
			expect(missing.status).toBe(404);
			expect(await listBots(study.id)).toEqual([]);
		});

		test('two bots complete a dyad study: flagged as bots, every response stored once', async () => {
			const study = await publish(makeStudy(2, [questionnaire()], [groupChoice(), end()]));
			const started = await api<{ participantIds: string[] }>(
				'POST',
				`/api/studies/${study.id}/bots`,
				{ count: 2, ...fast }
			);
			expect(started.participantIds).toHaveLength(2);
			const bots = await waitForOutcomes(study.id, 2);
			expect(bots.map((b) => b.participantId).sort()).toEqual([...started.participantIds].sort());
			expect(bots.map((b) => `${b.outcome}/${b.status}`)).toEqual([
				'completed/finished',
				'completed/finished'
			]);
			expect(bots[0]!.roomId).not.toBeNull();
			expect(bots[1]!.roomId).toBe(bots[0]!.roomId);
			for (const bot of bots) expect(bot.answered).toEqual(['questionnaire', 'pick']);

			if (sql) {
				const rows = await sql<{ id: string; is_bot: boolean; outcome: string }[]>`
					select id, is_bot, outcome from participants where study_id = ${study.id}`;
				expect(rows.map((r) => [r.is_bot, r.outcome])).toEqual([
					[true, 'completed'],
					[true, 'completed']
				]);
				const responses = await sql<
					{ participant_id: string; stage_id: string; response: unknown }[]
				>`
					select participant_id, stage_id, response from stage_responses where study_id = ${study.id}`;
				expect(responses).toHaveLength(4);
				const items = (
					makeStudy(2, [questionnaire()], []).stages[0] as Extract<Stage, { type: 'questionnaire' }>
				).content.items;
				for (const row of responses.filter((r) => r.stage_id === 'questionnaire')) {
					const response = row.response as { answers: Record<string, never> };
					expect(checkAnswers(items, response.answers).size).toBe(0);
				}
				for (const row of responses.filter((r) => r.stage_id === 'pick')) {
					expect(['a', 'b']).toContain((row.response as { option: string }).option);
				}
			}
		});

		test('three bots and one person form one room of four and finish together', async () => {
			const study = await publish(makeStudy(4, [questionnaire()], [groupChoice(), end()]));
			// The "person" is the same client without the server-side bot flag: Start creates an
			// ordinary participant, as a browser would.
			const person = startBot(server, study.slug, { ...fast, seed: 99, dropoutProbability: 0 });
			await api('POST', `/api/studies/${study.id}/bots`, { count: 3, ...fast });
			const result = await person.result;
			expect(result).toMatchObject({ kind: 'outcome', outcome: 'completed' });
			const bots = await waitForOutcomes(study.id, 3);
			expect(bots).toHaveLength(3);
			expect(bots.every((b) => b.outcome === 'completed')).toBe(true);
			const roomId = result.kind === 'outcome' ? result.roomId : null;
			expect(roomId).not.toBeNull();
			expect(bots.map((b) => b.roomId)).toEqual([roomId, roomId, roomId]);
			expect(bots.map((b) => b.participantId)).not.toContain(
				result.kind === 'outcome' ? result.participantId : ''
			);
			if (sql) {
				const rows = await sql<{ is_bot: boolean; n: number }[]>`
					select is_bot, count(*)::int as n from participants
					where study_id = ${study.id} group by is_bot order by is_bot`;
				expect([...rows]).toEqual([
					{ is_bot: false, n: 1 },
					{ is_bot: true, n: 3 }
				]);
			}
		});

		test('a bot that drops out: the room follows the stage policy (end, or continue)', async () => {
			// No pre-room stage: the first chance to drop is the room's group choice.
			const ending = await publish(makeStudy(2, [], [groupChoice({ policy: 'end' }), end()]));
			const going = await publish(
				makeStudy(2, [], [groupChoice({ policy: 'continue', minMembers: 1 }), end()])
			);
			for (const study of [ending, going]) {
				await api('POST', `/api/studies/${study.id}/bots`, { count: 1, ...fast });
				await api('POST', `/api/studies/${study.id}/bots`, {
					count: 1,
					...fast,
					dropoutProbability: 1
				});
			}
			// The server waits out its presence grace period (10 s) before the policy acts.
			const [ended, continued] = await Promise.all([
				waitForOutcomes(ending.id, 2),
				waitForOutcomes(going.id, 2)
			]);
			expect(ended.map((b) => b.outcome)).toEqual(['dropout', 'dropout']);
			expect(ended[0]!.roomId).toBe(ended[1]!.roomId);
			// The bot that stayed picked before the room ended; the one that left never did.
			expect(ended.map((b) => b.answered.length).sort()).toEqual([0, 1]);

			const [stayed, left] = [...continued].sort((a, b) => b.answered.length - a.answered.length);
			expect(stayed).toMatchObject({ outcome: 'completed', answered: ['pick'] });
			expect(left).toMatchObject({ outcome: 'dropout', answered: [] });
		});
	});
}
