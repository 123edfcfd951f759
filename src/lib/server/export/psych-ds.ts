/**
 * The Psych-DS bundle (issue 8): one zip with every dataset as `data/…_data.csv`, each
 * participant's continuous ratings as BIDS `*_events.tsv`, a README and
 * `dataset_description.json`, whose `variableMeasured` documents every column (the codebook).
 *
 * Streamed: rows go into the zip as batches arrive and the compressed bytes leave through a
 * pull-based ReadableStream, so a slow download slows the reads instead of filling memory.
 * The metadata is written last, once the row counts and the events files are known.
 */
import {
	buildVariableMeasured,
	describeStudyVariables,
	type DocumentedFile
} from '../../study/codebook';
import type { StudyDefinition } from '../../study';
import type { Dataset, DatasetName, ExportScope } from './dataset';
import { formatCsvHeader, formatCsvRows, type CsvOptions } from './formats';
import {
	DEFAULT_EVENT_BUFFER_SAMPLES,
	EVENTS_COLUMNS,
	buildEventsSidecar,
	canReadRatings,
	collectParticipantSamples,
	countRatingSamples,
	formatEventsTsv,
	groupByStage,
	listRatingScales,
	pickRatingScale,
	planEventPasses
} from './psych-ds-events';
import { KeywordLabels, nameDataFile, nameEventsFile, toKeywordValue } from './psych-ds-names';
import {
	buildDatasetDescription,
	buildReadme,
	type BundleStudy,
	type EventsSummary,
	type WrittenFile
} from './psych-ds-readme';
import { ZipWriter } from './psych-ds-zip';

export type PsychDsInput = { scope: ExportScope; study: BundleStudy; datasets: Dataset[] };

export type PsychDsOptions = {
	/** The export's time (file dates, `dateCreated`); now by default. */
	now?: Date;
	/** Most rating samples held at once while writing events files. */
	eventBufferSamples?: number;
	/** How the data files' CSV cells are written (formula escaping on by default). */
	csv?: CsvOptions;
};

/** How the README describes each dataset's file. */
const DATASET_SUMMARIES: Record<DatasetName, string> = {
	events: 'One row per room event (long format).',
	responses: 'One row per participant and stage item.',
	wide: 'One row per participant, one column per stage item.',
	telemetry: 'Continuous ratings, sync quality, A/V quality and signals.',
	chat: 'One row per chat message.',
	participants: 'One row per participant: outcome, timings, role, condition.'
};

/** Where the events files' columns are documented in `variableMeasured`. */
const EVENTS_FILES_PATTERN = 'data/sub-*/sub-*_task-*_events.tsv';
const EVENTS_SIDECAR_PATH = 'data/events.json';

/**
 * The Psych-DS bundle of `datasets` as a zip stream. Reads each dataset once in order (the
 * telemetry dataset once more to count ratings, plus once per events pass: one when telemetry
 * is grouped by participant). Cancelling the stream stops the reads.
 */
export function streamPsychDsBundle(
	input: PsychDsInput,
	options: PsychDsOptions = {}
): ReadableStream<Uint8Array> {
	const chunks = writePsychDsBundle(input, options);
	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				const next = await chunks.next();
				if (next.done) controller.close();
				else controller.enqueue(next.value);
			},
			async cancel() {
				await chunks.return(undefined);
			}
		},
		{ highWaterMark: 1 }
	);
}

/** The zip's bytes, chunk by chunk, as they are produced. */
export async function* writePsychDsBundle(
	input: PsychDsInput,
	options: PsychDsOptions = {}
): AsyncGenerator<Uint8Array, void, undefined> {
	const { scope, study, datasets } = input;
	const createdAt = options.now ?? new Date();
	const zip = new ZipWriter(createdAt);
	const studyLabel = toKeywordValue(study.id);
	const written: WrittenFile[] = [];
	const documented: DocumentedFile[] = [];
	const names = new Set<string>();
	const definitions = selectDefinitions(scope);

	for (const dataset of datasets) {
		if (names.has(dataset.name)) throw new Error(`Dataset ${dataset.name} is given twice.`);
		names.add(dataset.name);
		const path = nameDataFile(studyLabel, dataset.name);
		zip.open(path);
		zip.write(formatCsvHeader(dataset.columns, options.csv));
		let rows = 0;
		for await (const batch of dataset.batches()) {
			if (batch.length === 0) continue;
			zip.write(formatCsvRows(dataset.columns, batch, options.csv));
			rows += batch.length;
			const chunk = zip.take();
			if (chunk) yield chunk;
		}
		zip.close();
		written.push({ path, rows, what: dataset.description ?? DATASET_SUMMARIES[dataset.name] });
		documented.push({ path, columns: dataset.columns });
	}

	const telemetry = datasets.find((dataset) => dataset.name === 'telemetry');
	const events = telemetry ? yield* writeEventsFiles(telemetry, zip, definitions, options) : null;
	if (events && events.files > 0) {
		documented.push({ path: EVENTS_FILES_PATTERN, columns: EVENTS_COLUMNS });
		written.push({
			path: EVENTS_FILES_PATTERN,
			rows: events.samples,
			what: 'Continuous ratings locked to the video (BIDS events, tab separated).'
		});
		// The events files are BIDS, not Psych-DS data files: tell the validator to skip them.
		zip.add('.psychdsignore', `${EVENTS_SIDECAR_PATH}\ndata/**/*_events.tsv\n`);
	}

	zip.add(
		'README.md',
		buildReadme({
			study,
			scope,
			files: written,
			events,
			variables: describeStudyVariables(definitions),
			createdAt
		})
	);
	const description = buildDatasetDescription({
		study,
		scope,
		variableMeasured: buildVariableMeasured(documented, definitions),
		createdAt
	});
	zip.add('dataset_description.json', `${JSON.stringify(description, null, 2)}\n`);
	zip.finish();
	const last = zip.take();
	if (last) yield last;
}

/**
 * Writes an events.tsv (data/sub-<p>/…) for every participant and video stage with ratings,
 * and the sidecar, yielding zip output as it goes. Pass one counts, then `planEventPasses` decides how
 * many writing passes keep the buffered samples under the budget.
 */
async function* writeEventsFiles(
	telemetry: Dataset,
	zip: ZipWriter,
	definitions: ReadonlyMap<number, StudyDefinition>,
	options: PsychDsOptions
): AsyncGenerator<Uint8Array, EventsSummary | null, undefined> {
	if (!canReadRatings(telemetry.columns)) return null;
	const census = await countRatingSamples(telemetry);
	const summary: EventsSummary = {
		files: 0,
		samples: 0,
		participants: 0,
		malformed: census.malformed
	};
	if (census.spans.size === 0) return summary;

	const scales = listRatingScales(definitions);
	// Labels in a stable order: stages as the definitions list them, participants as they come.
	const tasks = new KeywordLabels();
	for (const stageId of scales.keys()) tasks.labelOf(stageId);
	const subjects = new KeywordLabels();
	for (const participant of census.spans.keys()) subjects.labelOf(participant);

	const budget = options.eventBufferSamples ?? DEFAULT_EVENT_BUFFER_SAMPLES;
	for (const pass of planEventPasses(census.spans, budget)) {
		const participants = collectParticipantSamples(telemetry, new Set(pass), census.spans);
		for await (const { participant, samples } of participants) {
			summary.participants++;
			for (const [stageId, run] of groupByStage(samples)) {
				const scale = pickRatingScale(scales, stageId, run[0]?.version ?? null);
				const period = scale ? 1 / scale.sampleRateHz : null;
				zip.add(
					nameEventsFile(subjects.labelOf(participant), tasks.labelOf(stageId)),
					formatEventsTsv(run, period)
				);
				summary.files++;
				summary.samples += run.length;
			}
			const chunk = zip.take();
			if (chunk) yield chunk;
		}
	}
	zip.add(
		EVENTS_SIDECAR_PATH,
		`${JSON.stringify(
			buildEventsSidecar(scales, (id) => tasks.labelOf(id)),
			null,
			2
		)}\n`
	);
	return summary;
}

/** The definitions of the versions the export covers (all when unfiltered), like the wide columns. */
function selectDefinitions(scope: ExportScope): Map<number, StudyDefinition> {
	const { versions } = scope.filter;
	return new Map(
		[...scope.definitions].filter(([version]) => versions === null || versions.includes(version))
	);
}
