import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { parse } from 'csv-parse/sync';
import { unzipSync } from 'fflate';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
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

// The Psych-DS bundle of a study run by bots, downloaded from the built server's data API:
// every dataset's CSV is in it with the same records as that dataset's own CSV export, and
// dataset_description.json documents every column. On Postgres, rating telemetry written for
// the bots' room also comes out as BIDS events files.
setDefaultTimeout(90_000);

const DATASET_NAMES = ['events', 'responses', 'wide', 'telemetry', 'chat', 'participants'];

/** A questionnaire before the room (one item of each kind), a group choice in it, the end. */
function makeStudy(): StudyDefinition {
	const study = createBlankStudy('Bundle');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	const survey = createStage('questionnaire', []);
	if (survey.type === 'questionnaire') {
		survey.id = 'survey';
		const kinds = ['likert', 'choice', 'checkboxes', 'slider', 'number', 'short_text'] as const;
		survey.content.items = kinds.map((kind, index) => ({
			...createQuestionItem(kind, []),
			id: `q${index}`,
			prompt: `Question ${index}?`
		}));
	}
	const pick = createStage('group_choice', []);
	if (pick.type === 'group_choice') pick.content.prompt = 'Which one?';
	const end: Stage = { ...createStage('end', []), id: 'end' };
	study.stages = [survey, { ...pick, id: 'pick', dropout: { policy: 'end' } }, end];
	return study;
}

/** BIDS labels are letters and digits: participant `p-abc` is `sub-pabc`. */
function eventsPath(participantId: string): string {
	const label = participantId.replace(/[^A-Za-z0-9]/g, '');
	return `data/sub-${label}/sub-${label}_task-clip_events.tsv`;
}

function decode(bytes: Uint8Array | undefined): string {
	if (!bytes) throw new Error('missing file');
	return new TextDecoder().decode(bytes);
}

const pg = requireService('TEST_DATABASE_URL', 'Psych-DS bundle on Postgres');
const targets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

for (const target of targets) {
	describe.skipIf(!target.available)(`Psych-DS bundle on ${target.name}`, () => {
		let setup: StudyServer;
		let api: AdminApi;
		let study: { id: string; slug: string };
		let bundle: Record<string, Uint8Array>;
		let botIds: string[];

		async function download(path: string): Promise<Response> {
			return fetch(`${setup.server.url}${path}`, { headers: { cookie: setup.admin } });
		}

		beforeAll(async () => {
			setup = await startStudyServer(target.postgres && pg.available ? pg.url : null);
			api = createAdminApi(setup.server, setup.admin);
			study = await publishStudy(api, makeStudy(), 'Bundle');
			const started = await api<{ participantIds: string[] }>(
				'POST',
				`/api/studies/${study.id}/bots`,
				{ count: 2, thinkMs: [10, 60], chat: false, seed: 11 }
			);
			botIds = started.participantIds;
			const deadline = Date.now() + 40_000;
			for (;;) {
				const { bots } = await api<{ bots: { outcome: string | null }[] }>(
					'GET',
					`/api/studies/${study.id}/bots`
				);
				if (bots.filter((bot) => bot.outcome !== null).length === 2) break;
				if (Date.now() > deadline) throw new Error('the bots did not finish');
				await Bun.sleep(200);
			}
			if (setup.sql) {
				// Ratings as LiveVideo.svelte sends them, 4 Hz from media time 0, for both bots.
				const [room] = await setup.sql<{ room_id: string }[]>`
					select room_id from participants where study_id = ${study.id} and room_id is not null limit 1`;
				const start = Date.now() - 10_000;
				for (const [index, actor] of botIds.entries()) {
					for (let step = 0; step < 5; step++) {
						const value = {
							stageId: 'clip',
							mediaTime: step * 0.25,
							serverTime: start + step * 250,
							value: 10 * index + step
						};
						await setup.sql`
							insert into telemetry_samples (room_id, actor, sample_id, kind, client_time, received_at, value)
							values (${room!.room_id}, ${actor}, ${`r${step}`}, 'video.rating', ${start + step * 250},
								${new Date(start + step * 250 + 30)}, ${setup.sql.json(value)})`;
					}
				}
			}
			const response = await download(`/api/studies/${study.id}/data/all?format=psych-ds`);
			if (response.status !== 200) {
				throw new Error(`${response.status} ${await response.text()}\n${setup.server.output()}`);
			}
			expect(response.headers.get('content-type')).toContain('zip');
			bundle = unzipSync(new Uint8Array(await response.arrayBuffer()));
		});
		afterAll(() => setup?.stop());

		test('holds a CSV per dataset with the records of its own export', async () => {
			for (const name of DATASET_NAMES) {
				const path = `data/study-${study.id.replace(/[^A-Za-z0-9]/g, '')}_description-${name}_data.csv`;
				const inBundle = parse(decode(bundle[path]), { columns: true }) as Record<string, string>[];
				const own = await download(`/api/studies/${study.id}/data/${name}?format=csv`);
				expect(own.status).toBe(200);
				const alone = parse(await own.text(), { columns: true }) as Record<string, string>[];
				expect({ name, records: inBundle }).toEqual({ name, records: alone });
			}
			const responses = parse(
				decode(
					bundle[
						`data/study-${study.id.replace(/[^A-Za-z0-9]/g, '')}_description-responses_data.csv`
					]
				),
				{ columns: true }
			) as Record<string, string>[];
			// Two bots: six questionnaire items and one group choice each.
			expect(responses.filter((row) => row.stage_id === 'survey')).toHaveLength(12);
			expect(responses.filter((row) => row.stage_id === 'pick')).toHaveLength(2);
		});

		test('variableMeasured covers every column, and wide columns carry the question', () => {
			const description = JSON.parse(decode(bundle['dataset_description.json']));
			expect(description['@type']).toBe('Dataset');
			expect(description.name).toBe('Bundle');
			const measured = new Map<string, { description: string; levels?: string[] }>(
				description.variableMeasured.map((entry: { name: string }) => [entry.name, entry])
			);
			let headers = 0;
			for (const [path, bytes] of Object.entries(bundle)) {
				let header: string[] = [];
				if (path.endsWith('.csv'))
					[header = []] = parse(decode(bytes), { to_line: 1 }) as string[][];
				else if (path.endsWith('_events.tsv')) header = decode(bytes).split('\n')[0]!.split('\t');
				for (const name of header) {
					headers++;
					expect({ path, name, documented: measured.has(name) }).toEqual({
						path,
						name,
						documented: true
					});
				}
			}
			expect(headers).toBeGreaterThan(50);
			expect(measured.get('survey.q0')?.description).toContain('Question 0?');
			expect(measured.get('survey.q0')?.levels).toEqual(['1', '2', '3', '4', '5', '6', '7']);
			expect(measured.get('survey.q1')?.levels).toEqual(['a', 'b']);
			expect(measured.get('pick.option')?.description).toContain('Which one?');
			expect(decode(bundle['README.md'])).toContain('`survey.q5`');
		});

		// Rating rows are inserted straight into the database (bots play no video), which only
		// Postgres allows from outside the server: on PGlite this story is not defined at all.
		if (!target.postgres) return;
		test('rating telemetry becomes one events.tsv per bot', () => {
			const events = Object.keys(bundle)
				.filter((path) => path.endsWith('_events.tsv'))
				.sort();
			expect(events).toEqual(botIds.map((id) => eventsPath(id)).sort());
			for (const [index, id] of botIds.entries()) {
				const lines = decode(bundle[eventsPath(id)])
					.trimEnd()
					.split('\n')
					.map((line) => line.split('\t'));
				expect(lines[0]).toEqual(['onset', 'duration', 'value', 'server_time']);
				expect(lines.slice(1).map((line) => line.slice(0, 3))).toEqual(
					[0, 1, 2, 3, 4].map((step) => [String(step * 0.25), '0.25', String(10 * index + step)])
				);
			}
			expect(JSON.parse(decode(bundle['data/events.json'])).onset.Units).toBe('s');
		});
	});
}
