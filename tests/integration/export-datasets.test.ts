import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { parse } from 'csv-parse/sync';
import type { Database } from '../../src/lib/server/db';
import type {
	Dataset,
	DatasetName,
	ExportFilter,
	ExportScope,
	Row
} from '../../src/lib/server/export/dataset';
import { DATASETS } from '../../src/lib/server/export/dataset';
import { buildDatasets } from '../../src/lib/server/export/datasets';
import { streamDataset } from '../../src/lib/server/export/formats';
import { hashStudyDefinition, type StudyDefinition } from '../../src/lib/study';
import { databaseTargets, type TestDatabase } from '../support/databases';
import { makeExportStudy, seedOwner, seedScenario, seedStudy } from './export-seed';

// The datasets read straight from a database holding a known scenario (export-seed.ts): what
// each row says, what each filter keeps, and that every count matches what is streamed.

const STUDY = 'study-export';
const ALL: ExportFilter = {
	versions: null,
	from: null,
	to: null,
	outcomes: null,
	includeBots: true
};

async function readRows(dataset: Dataset): Promise<Row[]> {
	const rows: Row[] = [];
	for await (const batch of dataset.batches()) rows.push(...batch);
	return rows;
}

async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
	return new Response(stream).text();
}

/** A CSV cell as the export writes it (null empty, booleans true/false). */
function asCsv(cell: Row[string] | undefined): string {
	if (cell === null || cell === undefined) return '';
	return String(cell);
}

for (const target of databaseTargets('export datasets')) {
	describe.skipIf(!target.available)(`export datasets on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		let v1: StudyDefinition;
		let v2: StudyDefinition;
		let t0: number;

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
			v1 = makeExportStudy('Export study');
			v2 = makeExportStudy('Export study');
			v2.settings.description = 'version two';
			const owner = await seedOwner(db);
			await seedStudy(db, owner, STUDY, [v1, v2]);
			({ t0 } = await seedScenario(db, STUDY));
		});
		afterAll(() => database?.dispose());

		function scope(filter: Partial<ExportFilter> = {}, includeExternalIds = false): ExportScope {
			return {
				studyId: STUDY,
				definitions: new Map([
					[1, v1],
					[2, v2]
				]),
				filter: { ...ALL, ...filter },
				includeExternalIds
			};
		}

		async function read(name: DatasetName, filter: Partial<ExportFilter> = {}, ext = false) {
			const [dataset] = await buildDatasets(db, scope(filter, ext), [name]);
			return { dataset: dataset!, rows: await readRows(dataset!) };
		}

		test('every dataset counts exactly the rows it streams, whatever the filter', async () => {
			const filters: Partial<ExportFilter>[] = [
				{},
				{ includeBots: false },
				{ outcomes: ['completed'] },
				{ versions: [2] },
				{ from: new Date(t0 + 1_000_000), to: new Date(t0 + 2_500_000) },
				{ outcomes: ['screened_out'] }
			];
			for (const filter of filters) {
				for (const dataset of await buildDatasets(db, scope(filter))) {
					const rows = await readRows(dataset);
					expect({ filter, name: dataset.name, n: await dataset.count!() }).toEqual({
						filter,
						name: dataset.name,
						n: rows.length
					});
					// Every row has exactly the declared columns.
					for (const row of rows) {
						expect(Object.keys(row).sort()).toEqual(dataset.columns.map((c) => c.name).sort());
					}
				}
			}
		});

		test('events: every logged event once, in room and log order, with stage, onset, offset and media time', async () => {
			const { rows } = await read('events');
			expect(rows.map((r) => `${r.room_id}#${r.seq}`)).toEqual([
				...Array.from({ length: 13 }, (_, i) => `room-a#${i + 1}`),
				...Array.from({ length: 6 }, (_, i) => `room-b#${i + 1}`)
			]);
			const first = rows[0]!;
			expect(first).toMatchObject({
				study_id: STUDY,
				version: 1,
				version_hash: hashStudyDefinition(v1),
				group: 1,
				type: 'member.connection',
				server_time: new Date(t0 + 61_000).toISOString(),
				onset_ms: 1_000,
				// The room starts at the first stage after the individual ones (consent, survey).
				stage_id: 'clip',
				stage_index: 2,
				participant_id: 'p1',
				actor_type: 'participant',
				is_bot: false,
				// Median of p1's sync samples' offsets (100, 110, 120).
				clock_offset_ms: 110,
				client_time: new Date(t0 + 61_000 - 110).toISOString(),
				media_time_s: null
			});
			const submitted = rows.find((r) => r.type === 'stage.submitted')!;
			// Scheduled to play from 0 at +70 s; submitted at +100 s.
			expect(submitted).toMatchObject({
				participant_id: 'p2',
				media_time_s: 30,
				clock_offset_ms: null
			});
			expect(JSON.parse(String(submitted.value))).toEqual({ type: 'continue' });
			const advanced = rows.filter((r) => r.type === 'stage.advanced' && r.room_id === 'room-a');
			expect(
				advanced.map((r) => [r.stage_id, r.stage_index, r.actor_type, r.cause, r.participant_id])
			).toEqual([
				['talk', 3, 'system', 'timer', null],
				['pick', 4, 'experimenter', 'experimenter', null]
			]);
			const chat = rows.find((r) => r.type === 'chat.sent')!;
			expect(chat).toMatchObject({ stage_id: 'talk', value: 'hello, "you"', media_time_s: null });
			const outcome = rows.find((r) => r.type === 'member.outcome' && r.participant_id === 'b2')!;
			expect(outcome).toMatchObject({
				group: 2,
				version: 2,
				outcome: 'dropout',
				is_bot: true,
				actor_type: 'system'
			});
			expect(JSON.parse(String(outcome.payload))).toMatchObject({
				memberId: 'b2',
				outcome: 'dropout'
			});
		});

		test('filters: bots, outcomes, versions and dates pick participants, and rows about the others go', async () => {
			const humans = await read('events', { includeBots: false });
			expect(new Set(humans.rows.map((r) => r.room_id))).toEqual(new Set(['room-a']));
			const completed = await read('events', { outcomes: ['completed'] });
			// Room B stays (b1 completed) but b2's rows go; room-level events stay.
			const roomB = completed.rows.filter((r) => r.room_id === 'room-b');
			expect(roomB.map((r) => r.type)).toEqual([
				'stage.advanced',
				'chat.sent',
				'group_choice.picked',
				'member.outcome'
			]);
			const people = async (filter: Partial<ExportFilter>) =>
				(await read('participants', filter)).rows.map((r) => r.participant_id);
			expect(await people({})).toEqual(['p1', 'p2', 'b1', 'b2', 'p3', 'p4']);
			expect(await people({ versions: [2] })).toEqual(['b1', 'b2', 'p4']);
			expect(await people({ outcomes: ['completed', 'no_consent'] })).toEqual([
				'p1',
				'p2',
				'b1',
				'p3'
			]);
			expect(
				await people({ from: new Date(t0 + 1_000_000), to: new Date(t0 + 3_000_000) })
			).toEqual(['b1', 'b2', 'p3']);
			expect(await people({ includeBots: false })).toEqual(['p1', 'p2', 'p3', 'p4']);
			expect((await read('chat', { includeBots: false })).rows.map((r) => r.text)).toEqual([
				'hello, "you"',
				'hi\nthere'
			]);
			expect(
				(await read('telemetry', { versions: [2] })).rows.map((r) => r.participant_id)
			).toEqual(['b1', 'b1']);
		});

		test('responses: one row per questionnaire item in the stage order, one per other stage, incomplete kept', async () => {
			const { rows } = await read('responses');
			const p1 = rows.filter((r) => r.participant_id === 'p1');
			expect(
				p1.map((r) => [r.trial_index, r.stage_id, r.stage_type, r.item_id, r.item_kind, r.response])
			).toEqual([
				[0, 'consent', 'consent', 'agreed', null, true],
				[1, 'survey', 'questionnaire', 'mood', 'likert', 5],
				[1, 'survey', 'questionnaire', 'pets', 'checkboxes', '["a"]'],
				[1, 'survey', 'questionnaire', 'name', 'short_text', 'calm, "ok"\nthen'],
				[2, 'pick', 'group_choice', 'option', null, 'a']
			]);
			// Answered before the room, but the row names the participant's group for analysis.
			expect(p1[1]).toMatchObject({
				rt_ms: 4200,
				time_elapsed_ms: 20_000,
				room_id: 'room-a',
				group: 1,
				status: 'submitted'
			});
			expect(rows.find((r) => r.participant_id === 'p3')).toMatchObject({
				room_id: null,
				group: null,
				response: false
			});
			expect(p1[4]).toMatchObject({ room_id: 'room-a', group: 1, rt_ms: null });
			expect(rows.find((r) => r.participant_id === 'b2' && r.stage_id === 'pick')).toMatchObject({
				status: 'incomplete',
				incomplete_reason: 'dropout',
				item_id: null,
				response: null
			});
		});

		test('wide: one row per participant, a column per stage item', async () => {
			const { dataset, rows } = await read('wide');
			const names = dataset.columns.map((c) => c.name);
			expect(names.filter((n) => n.includes('.'))).toEqual([
				'consent.agreed',
				'consent._status',
				'survey.mood',
				'survey.pets',
				'survey.name',
				'survey._rt_ms',
				'survey._status',
				'pick.option',
				'pick._status'
			]);
			expect(dataset.columns.find((c) => c.name === 'survey.mood')!.description).toContain(
				'How is your mood?'
			);
			expect(rows.find((r) => r.participant_id === 'p1')).toMatchObject({
				'consent.agreed': true,
				'survey.mood': 5,
				'survey.pets': '["a"]',
				'survey._rt_ms': 4200,
				'pick.option': 'a',
				outcome: 'completed',
				group: 1
			});
			expect(rows.find((r) => r.participant_id === 'p3')).toMatchObject({
				'consent.agreed': false,
				'survey.mood': null,
				'survey._status': null,
				outcome: 'no_consent'
			});
			expect(rows.find((r) => r.participant_id === 'b2')!['pick._status']).toBe('incomplete');
		});

		test('participants: outcome, completion code, timings, sync and A/V quality; external ids only when asked', async () => {
			const { dataset, rows } = await read('participants');
			expect(dataset.columns.some((c) => c.name.startsWith('ext.'))).toBe(false);
			const p1 = rows.find((r) => r.participant_id === 'p1')!;
			expect(p1).toMatchObject({
				outcome: 'completed',
				completion_code: 'DONE42',
				arrived_at: new Date(t0).toISOString(),
				matched_at: new Date(t0 + 60_000).toISOString(),
				duration_s: 300,
				stages_submitted: 3,
				stages_incomplete: 0,
				// Steady-state errors only (|−12|, 30); the seeking sample is left out.
				sync_samples: 3,
				sync_error_p50_ms: 12,
				sync_error_p95_ms: 30,
				clock_offset_p50_ms: 110,
				av_reports: 0
			});
			// Every link parameter the study does not list as safe is identifying, the Prolific
			// id and `src` alike: without identifying data, none is shown.
			expect(p1.link_params).toBeNull();
			expect(rows.find((r) => r.participant_id === 'b1')).toMatchObject({
				av_reports: 2,
				av_poor_share: 0.5,
				av_packets_lost: 5,
				av_jitter_p95_ms: 40,
				av_video_receive_kbps_p50: 200,
				sync_samples: 0,
				sync_error_p50_ms: null
			});
			expect(rows.find((r) => r.participant_id === 'p4')).toMatchObject({
				completion_code: null,
				finished_at: null,
				status: 'waiting'
			});

			const withIds = await read('participants', {}, true);
			expect(withIds.dataset.columns.at(-1)!.name).toBe('ext.prolific.PROLIFIC_PID');
			const p1WithIds = withIds.rows.find((r) => r.participant_id === 'p1')!;
			expect(p1WithIds['ext.prolific.PROLIFIC_PID']).toBe('PIDP1');
			expect(JSON.parse(String(p1WithIds.link_params))).toEqual({
				src: 'mail',
				PROLIFIC_PID: 'PIDP1'
			});

			// Listed as safe by the newest version: shown to all; a Prolific id never is.
			v2.settings.safeLinkParameters = ['src', 'PROLIFIC_PID'];
			try {
				const listed = (await read('participants')).rows.find((r) => r.participant_id === 'p1')!;
				expect(JSON.parse(String(listed.link_params))).toEqual({ src: 'mail' });
			} finally {
				delete v2.settings.safeLinkParameters;
			}
		});

		test('telemetry: by room, then sender, in the sender clock order, with the flattened fields', async () => {
			const { rows } = await read('telemetry');
			expect(rows.map((r) => [r.participant_id, r.sample_id])).toEqual([
				['p1', 's1'],
				['p1', 's2'],
				['p1', 's4'],
				['p1', 's3'],
				['b1', 'a1'],
				['b1', 'a2']
			]);
			expect(rows[3]).toMatchObject({
				kind: 'video.rating',
				stage_id: 'clip',
				media_time_s: 10.5,
				value: 0.75,
				onset_ms: 20_600
			});
			expect(rows[0]).toMatchObject({
				kind: 'sync.quality',
				sync_error_ms: -12,
				sync_phase: 'locked',
				clock_offset_ms: 100,
				rtt_ms: 40,
				value: null
			});
			expect(rows[5]).toMatchObject({
				kind: 'av.quality',
				av_connection_quality: 'poor',
				group: 2
			});
		});

		test('every dataset as CSV parses back to its rows; JSON and NDJSON too', async () => {
			for (const dataset of await buildDatasets(db, scope({}, true))) {
				const rows = await readRows(dataset);
				const names = dataset.columns.map((c) => c.name);
				const csv = await readText(streamDataset(dataset, 'csv'));
				const records = parse(csv, { columns: true }) as Record<string, string>[];
				expect(records.length).toBe(rows.length);
				expect(
					Object.keys(records[0] ?? Object.fromEntries(names.map((n) => [n, '']))).sort()
				).toEqual([...names].sort());
				records.forEach((record, i) => {
					for (const name of names) expect(record[name]).toBe(asCsv(rows[i]![name]));
				});

				const json = JSON.parse(await readText(streamDataset(dataset, 'json'))) as Record<
					string,
					unknown
				>[];
				const ndjson = (await readText(streamDataset(dataset, 'ndjson')))
					.split('\n')
					.filter((line) => line !== '')
					.map((line) => JSON.parse(line) as Record<string, unknown>);
				expect(ndjson).toEqual(json);
				expect(json.length).toBe(rows.length);
				json.forEach((object, i) => {
					expect(Object.keys(object)).toEqual(names);
					for (const column of dataset.columns) {
						const cell = rows[i]![column.name];
						// JSON columns are nested as the values they encode.
						const expected =
							column.type === 'json' && typeof cell === 'string' ? JSON.parse(cell) : cell;
						expect(object[column.name]).toEqual(expected);
					}
				});
			}
		});

		test('DATASETS are all built, in order', async () => {
			expect((await buildDatasets(db, scope())).map((d) => d.name)).toEqual([...DATASETS]);
		});
	});
}
