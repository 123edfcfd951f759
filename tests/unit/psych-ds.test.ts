import { describe, expect, test } from 'bun:test';
import { parse } from 'csv-parse/sync';
import { unzipSync } from 'fflate';
import type { Dataset, ExportScope, Row } from '../../src/lib/server/export/dataset';
import { streamPsychDsBundle } from '../../src/lib/server/export/psych-ds';
import { TELEMETRY_COLUMNS } from '../../src/lib/server/export/telemetry';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
	type StageOf,
	type StudyDefinition
} from '../../src/lib/study';

const RATE_HZ = 4;

/** A questionnaire (`intro`: mood, nick) and a rated video (`clip-1`) at 4 Hz. */
function definition(): StudyDefinition {
	const study = createBlankStudy('Film study');
	const intro = createStage('questionnaire', []) as StageOf<'questionnaire'>;
	intro.id = 'intro';
	intro.content.items = [
		{ ...createQuestionItem('likert', []), id: 'mood', prompt: 'How do you feel?' },
		{ ...createQuestionItem('short_text', []), id: 'nick', prompt: 'A nickname' }
	];
	const video = createStage('video', []) as StageOf<'video'>;
	video.id = 'clip-1';
	video.title = 'The clip';
	video.content.mediaId = 'm1';
	video.content.continuousRating = {
		label: 'Suspense',
		min: 0,
		max: 100,
		minLabel: 'none',
		maxLabel: 'unbearable',
		sampleRateHz: RATE_HZ
	};
	study.stages = [study.stages[0]!, intro, video, study.stages[1]!];
	return study;
}

function scope(): ExportScope {
	return {
		studyId: 'st1',
		definitions: new Map([[1, definition()]]),
		filter: { versions: null, from: null, to: null, outcomes: null, includeBots: true },
		includeExternalIds: false
	};
}

/** An in-memory dataset that counts its reads and how far each read got. */
function memoryDataset(
	name: Dataset['name'],
	columns: Dataset['columns'],
	rows: Row[],
	batchSize = 2
): Dataset & { reads: number; batchesServed: number; finished: number } {
	const dataset = {
		name,
		columns,
		reads: 0,
		batchesServed: 0,
		finished: 0,
		async *batches() {
			dataset.reads++;
			try {
				for (let start = 0; start < rows.length; start += batchSize) {
					dataset.batchesServed++;
					yield rows.slice(start, start + batchSize);
				}
			} finally {
				dataset.finished++;
			}
		}
	};
	return dataset;
}

const T0 = Date.parse('2025-03-01T12:00:00.000Z');

/** A telemetry row as telemetry.ts builds it. */
function telemetryRow(
	participant: string | null,
	kind: string,
	fields: { stageId?: string; mediaTime?: number; value?: number | null; at?: number } = {}
): Row {
	const row: Row = Object.fromEntries(TELEMETRY_COLUMNS.map((column) => [column.name, null]));
	const at = fields.at ?? T0;
	const payload =
		kind === 'video.rating'
			? {
					stageId: fields.stageId,
					mediaTime: fields.mediaTime,
					serverTime: at,
					value: fields.value
				}
			: { errorMs: 3 };
	return {
		...row,
		study_id: 'st1',
		version: 1,
		room_id: 'r1',
		group: 1,
		participant_id: participant,
		is_bot: false,
		kind,
		stage_id: fields.stageId ?? null,
		sample_id: `s${Math.random()}`,
		server_time: new Date(at + 40).toISOString(),
		media_time_s: kind === 'video.rating' ? (fields.mediaTime ?? null) : null,
		value: kind === 'video.rating' ? (fields.value ?? null) : null,
		payload: JSON.stringify(payload)
	};
}

/** p1 rates 0, 0.25, 0.5, then seeks to 10 and rates 10, 10.25; p2 rates 0 and 0.25. */
function ratingRows(): Row[] {
	const rate = (participant: string, mediaTime: number, value: number, at: number) =>
		telemetryRow(participant, 'video.rating', { stageId: 'clip-1', mediaTime, value, at });
	return [
		rate('p1', 0, 50, T0),
		rate('p1', 0.25, 55, T0 + 250),
		telemetryRow('p1', 'sync.quality'),
		rate('p1', 0.5, 60, T0 + 500),
		rate('p1', 10, 61, T0 + 750),
		rate('p1', 10.25, 62, T0 + 1000),
		rate('p2', 0, 10, T0),
		rate('p2', 0.25, 20, T0 + 250),
		// A rating whose value is not a number: left out and reported.
		telemetryRow('p2', 'video.rating', { stageId: 'clip-1', mediaTime: 0.5, value: null })
	];
}

const responseColumns: Dataset['columns'] = [
	{ name: 'participant_id', type: 'string', description: 'Participant.' },
	{ name: 'stage_id', type: 'string', description: 'Stage.' },
	{ name: 'item_id', type: 'string', description: 'Item.' },
	{ name: 'response', type: 'string', description: 'Answer.' },
	{ name: 'rt_ms', type: 'integer', description: 'Response time.', unit: 'ms' },
	{ name: 'required', type: 'boolean', description: 'Required item.' }
];
const responseRows: Row[] = [
	{
		participant_id: 'p1',
		stage_id: 'intro',
		item_id: 'mood',
		response: 4,
		rt_ms: 1200,
		required: true
	},
	{
		participant_id: 'p1',
		stage_id: 'intro',
		item_id: 'nick',
		response: 'Zoë, "the one"\nwith a newline',
		rt_ms: 1200,
		required: false
	},
	{
		participant_id: 'p2',
		stage_id: 'intro',
		item_id: 'nick',
		response: null,
		rt_ms: null,
		required: false
	}
];
const wideColumns: Dataset['columns'] = [
	{ name: 'participant_id', type: 'string', description: 'Participant.' },
	{ name: 'intro.mood', type: 'integer', description: 'Answer.' },
	{ name: 'intro.nick', type: 'string', description: 'Answer.' }
];
const wideRows: Row[] = [
	{ participant_id: 'p1', 'intro.mood': 4, 'intro.nick': 'Zoë, "the one"\nwith a newline' },
	{ participant_id: 'p2', 'intro.mood': 2, 'intro.nick': null }
];

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
	const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
	return bytes;
}

function text(files: Record<string, Uint8Array>, path: string): string {
	const file = files[path];
	if (!file) throw new Error(`${path} is not in the zip: ${Object.keys(files).join(', ')}`);
	return new TextDecoder().decode(file);
}

function parseTsv(source: string): Record<string, string>[] {
	const [header, ...lines] = source.trimEnd().split('\n');
	const names = header!.split('\t');
	return lines.map((line) =>
		Object.fromEntries(line.split('\t').map((cell, index) => [names[index]!, cell]))
	);
}

async function buildBundle(options: { eventBufferSamples?: number; telemetryRows?: Row[] } = {}) {
	const telemetry = memoryDataset(
		'telemetry',
		TELEMETRY_COLUMNS,
		options.telemetryRows ?? ratingRows()
	);
	const datasets = [
		memoryDataset('responses', responseColumns, responseRows),
		memoryDataset('wide', wideColumns, wideRows),
		telemetry
	];
	const zip = await readAll(
		streamPsychDsBundle(
			{
				scope: scope(),
				study: { id: 'st1', title: 'Film study', description: 'Watching together.' },
				datasets
			},
			{ now: new Date(T0), eventBufferSamples: options.eventBufferSamples }
		)
	);
	return { files: unzipSync(zip), telemetry };
}

describe('streamPsychDsBundle', () => {
	test('writes the Psych-DS layout: metadata, README, one CSV per dataset, events files', async () => {
		const { files } = await buildBundle();
		expect(Object.keys(files).sort()).toEqual([
			'.psychdsignore',
			'README.md',
			'data/events.json',
			'data/study-st1_description-responses_data.csv',
			'data/study-st1_description-telemetry_data.csv',
			'data/study-st1_description-wide_data.csv',
			'data/sub-p1/sub-p1_task-clip1_events.tsv',
			'data/sub-p2/sub-p2_task-clip1_events.tsv',
			'dataset_description.json'
		]);
		// Psych-DS data file names: keywords of letters and digits, ending in _data.csv.
		for (const path of Object.keys(files).filter((p) => p.endsWith('.csv'))) {
			expect(path.slice('data/'.length)).toMatch(
				/^([a-z]+-[a-zA-Z0-9]+)(_[a-z]+-[a-zA-Z0-9]+)*_data\.csv$/
			);
		}
	});

	test('dataset_description.json is schema.org JSON whose variableMeasured covers every header', async () => {
		const { files } = await buildBundle();
		const description = JSON.parse(text(files, 'dataset_description.json'));
		expect(description['@context']).toBe('https://schema.org/');
		expect(description['@type']).toBe('Dataset');
		expect(description.name).toBe('Film study');
		expect(description.description).toBe('Watching together.');
		expect(description.schemaVersion).toMatch(/^Psych-DS /);
		const measured = new Set<string>(
			description.variableMeasured.map((entry: { name: string }) => entry.name)
		);
		expect(measured.size).toBe(description.variableMeasured.length);

		const headers = new Set<string>();
		for (const [path, bytes] of Object.entries(files)) {
			const source = new TextDecoder().decode(bytes);
			if (path.endsWith('.csv')) {
				const [header] = parse(source, { to_line: 1 }) as string[][];
				for (const name of header!) headers.add(name);
			} else if (path.endsWith('_events.tsv')) {
				for (const name of source.split('\n')[0]!.split('\t')) headers.add(name);
			}
		}
		expect(headers.size).toBeGreaterThan(TELEMETRY_COLUMNS.length);
		for (const header of headers) expect(measured).toContain(header);
		// And nothing is documented that no file has.
		expect([...measured].filter((name) => !headers.has(name))).toEqual([]);

		const mood = description.variableMeasured.find(
			(entry: { name: string }) => entry.name === 'intro.mood'
		);
		expect(mood.description).toContain('How do you feel?');
		expect(mood.levels).toEqual(['1', '2', '3', '4', '5', '6', '7']);
	});

	test('CSVs are RFC 4180 and parse back to the rows', async () => {
		const { files } = await buildBundle();
		const responses = text(files, 'data/study-st1_description-responses_data.csv');
		expect(
			responses.startsWith('participant_id,stage_id,item_id,response,rt_ms,required\r\n')
		).toBe(true);
		const parsed = parse(responses, { columns: true }) as Record<string, string>[];
		expect(parsed).toEqual(
			responseRows.map((row) =>
				Object.fromEntries(
					Object.entries(row).map(([key, value]) => [key, value === null ? '' : String(value)])
				)
			)
		);
		const wide = parse(text(files, 'data/study-st1_description-wide_data.csv'), {
			columns: true
		}) as Record<string, string>[];
		// Dotted names are plain column names, not nested paths.
		expect(wide[0]).toEqual({
			participant_id: 'p1',
			'intro.mood': '4',
			'intro.nick': 'Zoë, "the one"\nwith a newline'
		});
		const telemetry = parse(text(files, 'data/study-st1_description-telemetry_data.csv'), {
			columns: true
		}) as Record<string, string>[];
		expect(telemetry.length).toBe(ratingRows().length);
		expect(Object.keys(telemetry[0]!)).toEqual(TELEMETRY_COLUMNS.map((column) => column.name));
	});

	test('events.tsv: onset is media time, duration the step to the next sample or the period', async () => {
		const { files } = await buildBundle();
		const p1 = parseTsv(text(files, 'data/sub-p1/sub-p1_task-clip1_events.tsv'));
		expect(p1.map((row) => [row.onset, row.duration, row.value])).toEqual([
			['0', '0.25', '50'],
			['0.25', '0.25', '55'],
			// The seek from 0.5 to 10: not 9.5 s of rating, one period.
			['0.5', '0.25', '60'],
			['10', '0.25', '61'],
			// The last sample stands for one period (1 / 4 Hz).
			['10.25', '0.25', '62']
		]);
		expect(p1[0]!.server_time).toBe(new Date(T0).toISOString());
		const p2 = parseTsv(text(files, 'data/sub-p2/sub-p2_task-clip1_events.tsv'));
		expect(p2.map((row) => row.value)).toEqual(['10', '20']);

		const sidecar = JSON.parse(text(files, 'data/events.json'));
		expect(sidecar.onset.Units).toBe('s');
		expect(sidecar.duration.Units).toBe('s');
		expect(sidecar.value.Description).toContain('Suspense');
		expect(sidecar.value.Description).toContain('task-clip1');

		const readme = text(files, 'README.md');
		expect(readme).toContain('1 rating sample(s) with invalid values were left out');
		expect(readme).toContain('`intro.mood`');
	});

	test('interleaved telemetry and a tiny buffer: more passes, the same files', async () => {
		const interleaved = ratingRows();
		// p2's samples between p1's: no participant's samples are contiguous.
		const mixed = [0, 6, 1, 7, 2, 3, 8, 4, 5].map((index) => interleaved[index]!);
		const relaxed = await buildBundle({ telemetryRows: mixed });
		const tight = await buildBundle({ telemetryRows: mixed, eventBufferSamples: 5 });
		for (const path of Object.keys(relaxed.files).filter((p) => p.endsWith('_events.tsv'))) {
			expect(text(tight.files, path)).toBe(text(relaxed.files, path));
		}
		// CSV + census + one writing pass; the tight budget needs a second writing pass.
		expect(relaxed.telemetry.reads).toBe(3);
		expect(tight.telemetry.reads).toBe(4);
	});

	test('streams: the first bytes leave before the datasets are read through, and cancel stops reading', async () => {
		const many = Array.from({ length: 2_000 }, (_, index) => ({
			participant_id: `p${index}`,
			stage_id: 'intro',
			item_id: 'nick',
			response: `answer ${index} ${'x'.repeat(200)}`,
			rt_ms: index,
			required: true
		}));
		const responses = memoryDataset('responses', responseColumns, many, 50);
		const stream = streamPsychDsBundle({
			scope: scope(),
			study: { id: 'st1', title: 'Film study' },
			datasets: [responses]
		});
		const reader = stream.getReader();
		const first = await reader.read();
		expect(first.done).toBe(false);
		expect(first.value!.length).toBeGreaterThan(0);
		// 40 batches exist; the reader asked for one chunk, so only a few were read.
		expect(responses.batchesServed).toBeLessThan(5);
		await reader.cancel();
		expect(responses.finished).toBe(1);
		expect(responses.batchesServed).toBeLessThan(5);
	});

	test('a study without ratings has no events files and still documents every column', async () => {
		const { files } = await buildBundle({ telemetryRows: [telemetryRow('p1', 'sync.quality')] });
		expect(Object.keys(files).some((path) => path.endsWith('_events.tsv'))).toBe(false);
		expect(files['data/events.json']).toBeUndefined();
		const description = JSON.parse(text(files, 'dataset_description.json'));
		const names = description.variableMeasured.map((entry: { name: string }) => entry.name);
		expect(names).not.toContain('onset');
		expect(names).toContain('sync_phase');
	});
});
