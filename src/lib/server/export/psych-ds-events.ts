/**
 * Media-locked BIDS events for the Psych-DS bundle: each participant's continuous-rating
 * samples of one video stage as `sub-<p>_task-<stage>_events.tsv` (onset = media time in s).
 * The samples come from the streamed telemetry dataset. One pass counts each participant's
 * samples and where in the stream they lie (`countRatingSamples`); then as few writing passes
 * as keep the buffered samples under a budget (`planEventPasses`) write the files, each
 * participant's as soon as all of them are read. telemetry.ts orders rows by room, sender and
 * time, so that is one writing pass holding one participant at a time; the census keeps it
 * correct, and bounded, for any order.
 */
import * as v from 'valibot';
import type { StudyDefinition } from '../../study';
import type { Cell, Column, Dataset, Row } from './dataset';

/** The telemetry kind the video stage's rating slider sends (LiveVideo.svelte). */
export const RATING_KIND = 'video.rating';

/**
 * Samples a writing pass may hold at once: about 100 bytes each as objects, so some 25 MB. One
 * participant rating a 20-minute video at 10 Hz is 12 000; a participant with more than this
 * still gets a pass alone.
 */
export const DEFAULT_EVENT_BUFFER_SAMPLES = 250_000;

/** The columns of every events.tsv, in order (BIDS: onset and duration first). */
export const EVENTS_COLUMNS: Column[] = [
	{
		name: 'onset',
		type: 'number',
		unit: 's',
		description: 'Media time of the video when the rating was sampled, in seconds from its start.'
	},
	{
		name: 'duration',
		type: 'number',
		unit: 's',
		description:
			'Seconds the rating stands for: the media time to the next sample, or the sample period for the last sample and across seeks and gaps.'
	},
	{
		name: 'value',
		type: 'number',
		description: "The continuous rating slider's value, on the video stage's scale."
	},
	{
		name: 'server_time',
		type: 'datetime',
		description:
			'When the sample was taken, on the server clock (ISO 8601, UTC, ms); orders re-watched media after a seek.'
	}
];

// --- Reading samples from telemetry rows --------------------------------------------------------

/** One continuous-rating sample, read from a telemetry row. */
export type RatingSample = {
	participant: string;
	stageId: string;
	/** The participant's study version, when the row says. */
	version: number | null;
	/** Seconds into the media. */
	mediaTime: number;
	/** Server time in ms since the epoch, when known (orders the samples). */
	serverTime: number | null;
	value: number;
};

/** The rating telemetry value the client sends (LiveVideo.svelte): client data, so checked. */
const RatingPayloadSchema = v.object({
	stageId: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
	mediaTime: v.pipe(v.number(), v.finite(), v.minValue(0)),
	serverTime: v.optional(v.pipe(v.number(), v.finite())),
	value: v.pipe(v.number(), v.finite())
});

/** The telemetry dataset's columns (telemetry.ts) a rating sample is read from. */
export const RATING_FIELDS = {
	kind: 'kind',
	participant: 'participant_id',
	version: 'version',
	stage: 'stage_id',
	mediaTime: 'media_time_s',
	value: 'value',
	receivedAt: 'server_time',
	payload: 'payload'
} as const;

/**
 * Whether rating samples can be read from a dataset with these columns: a kind and a
 * participant, and either the flattened stage, media time and value or the JSON payload.
 */
export function canReadRatings(columns: readonly Column[]): boolean {
	const names = new Set(columns.map((column) => column.name));
	const has = (...wanted: string[]) => wanted.every((name) => names.has(name));
	return (
		has(RATING_FIELDS.kind, RATING_FIELDS.participant) &&
		(has(RATING_FIELDS.payload) ||
			has(RATING_FIELDS.stage, RATING_FIELDS.mediaTime, RATING_FIELDS.value))
	);
}

export type ReadSample =
	| { ok: true; sample: RatingSample }
	| { ok: false; reason: 'not_rating' | 'no_participant' | 'malformed' };

/**
 * The rating sample in a telemetry row: the flattened columns where they are filled, else the
 * JSON payload the client sent (validated: it is client data). Server time is the payload's
 * `serverTime` (the sampling moment on the server clock), else when the server received it.
 */
export function readRatingSample(row: Row): ReadSample {
	if (row[RATING_FIELDS.kind] !== RATING_KIND) return { ok: false, reason: 'not_rating' };
	const participant = row[RATING_FIELDS.participant];
	if (typeof participant !== 'string' || participant === '') {
		return { ok: false, reason: 'no_participant' };
	}
	const payload = parsePayload(row[RATING_FIELDS.payload]);
	const candidate = {
		stageId: row[RATING_FIELDS.stage] || payload.stageId,
		mediaTime: row[RATING_FIELDS.mediaTime] ?? payload.mediaTime,
		serverTime: payload.serverTime ?? readTime(row[RATING_FIELDS.receivedAt]),
		value: row[RATING_FIELDS.value] ?? payload.value
	};
	const parsed = v.safeParse(RatingPayloadSchema, candidate);
	if (!parsed.success) return { ok: false, reason: 'malformed' };
	const version = row[RATING_FIELDS.version];
	return {
		ok: true,
		sample: {
			participant,
			stageId: parsed.output.stageId,
			version: typeof version === 'number' && Number.isInteger(version) ? version : null,
			mediaTime: parsed.output.mediaTime,
			serverTime: parsed.output.serverTime ?? null,
			value: parsed.output.value
		}
	};
}

/** The payload column's JSON object, or nothing. */
function parsePayload(raw: Cell | undefined): Record<string, unknown> {
	if (typeof raw !== 'string' || !raw.startsWith('{')) return {};
	try {
		const value: unknown = JSON.parse(raw);
		return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
	} catch {
		return {};
	}
}

/** ISO 8601 text or epoch milliseconds. */
function readTime(cell: Cell | undefined): number | undefined {
	if (typeof cell === 'number') return Number.isFinite(cell) ? cell : undefined;
	if (typeof cell === 'string' && cell !== '') {
		const ms = Date.parse(cell);
		return Number.isNaN(ms) ? undefined : ms;
	}
	return undefined;
}

// --- Planning the passes --------------------------------------------------------------------------

/** How many rating samples a participant has and between which stream positions they lie. */
export type RatingSpan = { count: number; first: number; last: number };

export type RatingCensus = {
	/** By participant, in the order they first appear. */
	spans: Map<string, RatingSpan>;
	/** Rating rows that did not validate (skipped, reported in the README). */
	malformed: number;
};

/** Pass one: reads the telemetry dataset once and counts each participant's rating samples. */
export async function countRatingSamples(telemetry: Dataset): Promise<RatingCensus> {
	const spans = new Map<string, RatingSpan>();
	let malformed = 0;
	let position = 0;
	for await (const batch of telemetry.batches()) {
		for (const row of batch) {
			const read = readRatingSample(row);
			if (!read.ok) {
				if (read.reason === 'malformed') malformed++;
				continue;
			}
			const span = spans.get(read.sample.participant);
			if (span) {
				span.count++;
				span.last = position;
			} else {
				spans.set(read.sample.participant, { count: 1, first: position, last: position });
			}
			position++;
		}
	}
	return { spans, malformed };
}

/**
 * Groups participants into writing passes so that no pass buffers more than `budget` samples
 * at once. A participant is flushed once all their samples are read, so only participants
 * whose stream ranges overlap are held together; the sum of overlapping counts is a safe upper
 * bound. First fit in stream order: contiguous telemetry makes a single pass.
 */
export function planEventPasses(
	spans: ReadonlyMap<string, RatingSpan>,
	budget: number
): string[][] {
	const passes: { participants: string[]; spans: RatingSpan[] }[] = [];
	const ordered = [...spans].sort(([, a], [, b]) => a.first - b.first);
	for (const [participant, span] of ordered) {
		const fitting = passes.find((pass) => {
			const overlapping = pass.spans
				.filter((other) => other.first <= span.last && span.first <= other.last)
				.reduce((sum, other) => sum + other.count, 0);
			return overlapping + span.count <= budget;
		});
		if (fitting) {
			fitting.participants.push(participant);
			fitting.spans.push(span);
		} else {
			passes.push({ participants: [participant], spans: [span] });
		}
	}
	return passes.map((pass) => pass.participants);
}

/**
 * A writing pass: buffers the samples of `participants` and yields each one's samples as soon
 * as the census count is reached (the rest at the end, if the data shrank). Samples of a
 * participant already yielded (written after the census) are left out.
 */
export async function* collectParticipantSamples(
	telemetry: Dataset,
	participants: ReadonlySet<string>,
	spans: ReadonlyMap<string, RatingSpan>
): AsyncGenerator<{ participant: string; samples: RatingSample[] }, void, undefined> {
	const buffers = new Map<string, RatingSample[]>();
	const done = new Set<string>();
	for await (const batch of telemetry.batches()) {
		for (const row of batch) {
			const read = readRatingSample(row);
			if (!read.ok) continue;
			const { participant } = read.sample;
			if (!participants.has(participant) || done.has(participant)) continue;
			const buffer = buffers.get(participant) ?? [];
			buffer.push(read.sample);
			buffers.set(participant, buffer);
			if (buffer.length >= (spans.get(participant)?.count ?? Infinity)) {
				buffers.delete(participant);
				done.add(participant);
				yield { participant, samples: buffer };
			}
		}
	}
	for (const [participant, samples] of buffers) yield { participant, samples };
}

// --- Writing the files ------------------------------------------------------------------------------

/** A video stage's rating scale as the definitions give it. */
export type RatingScale = {
	stageId: string;
	stageTitle: string;
	label: string;
	min: number;
	max: number;
	minLabel: string;
	maxLabel: string;
	sampleRateHz: number;
};

/** The rating scale of every video stage that has one, by stage id and version. */
export function listRatingScales(
	definitions: ReadonlyMap<number, StudyDefinition>
): Map<string, Map<number, RatingScale>> {
	const scales = new Map<string, Map<number, RatingScale>>();
	for (const [version, definition] of definitions) {
		for (const stage of definition.stages) {
			if (stage.type !== 'video') continue;
			const rating =
				stage.content.continuousRating ??
				stage.variants.find((variant) => variant.content.continuousRating)?.content
					.continuousRating;
			if (!rating) continue;
			const byVersion = scales.get(stage.id) ?? new Map<number, RatingScale>();
			byVersion.set(version, { stageId: stage.id, stageTitle: stage.title, ...rating });
			scales.set(stage.id, byVersion);
		}
	}
	return scales;
}

/** The scale for a sample's version, else the newest version that has the stage. */
export function pickRatingScale(
	scales: ReadonlyMap<string, ReadonlyMap<number, RatingScale>>,
	stageId: string,
	version: number | null
): RatingScale | null {
	const byVersion = scales.get(stageId);
	if (!byVersion) return null;
	if (version !== null && byVersion.has(version)) return byVersion.get(version)!;
	const newest = Math.max(...byVersion.keys());
	return byVersion.get(newest) ?? null;
}

/** A participant's samples grouped by stage, each in sampling order. */
export function groupByStage(samples: readonly RatingSample[]): Map<string, RatingSample[]> {
	const groups = new Map<string, RatingSample[]>();
	for (const sample of samples) {
		const group = groups.get(sample.stageId) ?? [];
		group.push(sample);
		groups.set(sample.stageId, group);
	}
	for (const group of groups.values()) {
		// Stable: samples without a server time keep the stream's order.
		group.sort((a, b) => (a.serverTime ?? 0) - (b.serverTime ?? 0));
	}
	return groups;
}

/**
 * One events.tsv: a header and one row per sample in sampling order. Duration is the media
 * time to the next sample when that is a plausible step (more than 0, at most two periods);
 * otherwise, for the last sample and across seeks and pauses, the sample period. Without a
 * known period, the median step of the run stands in.
 */
export function formatEventsTsv(samples: readonly RatingSample[], periodS: number | null): string {
	const lines = [EVENTS_COLUMNS.map((column) => column.name).join('\t')];
	const period = periodS ?? medianStep(samples);
	samples.forEach((sample, index) => {
		const next = samples[index + 1];
		const step = next ? next.mediaTime - sample.mediaTime : null;
		const duration =
			step !== null && step > 0 && (period === null || step <= 2 * period) ? step : period;
		lines.push(
			[
				formatSeconds(sample.mediaTime),
				duration === null ? 'n/a' : formatSeconds(duration),
				String(sample.value),
				sample.serverTime === null ? 'n/a' : new Date(sample.serverTime).toISOString()
			].join('\t')
		);
	});
	return `${lines.join('\n')}\n`;
}

function medianStep(samples: readonly RatingSample[]): number | null {
	const steps: number[] = [];
	for (let index = 1; index < samples.length; index++) {
		const step = samples[index]!.mediaTime - samples[index - 1]!.mediaTime;
		if (step > 0) steps.push(step);
	}
	if (steps.length === 0) return null;
	steps.sort((a, b) => a - b);
	return steps[Math.floor(steps.length / 2)]!;
}

/** Microsecond precision: enough for media time, and no float noise like 0.30000000000000004. */
function formatSeconds(seconds: number): string {
	return String(Math.round(seconds * 1e6) / 1e6);
}

/**
 * The BIDS sidecar for every events.tsv (data/events.json applies to the files below it):
 * each column's meaning and unit, and the rating scale of each video stage.
 */
export function buildEventsSidecar(
	scales: ReadonlyMap<string, ReadonlyMap<number, RatingScale>>,
	taskLabel: (stageId: string) => string
): Record<string, unknown> {
	const stageScales = [...scales.values()].flatMap((byVersion) => {
		const newest = byVersion.get(Math.max(...byVersion.keys()))!;
		const low = newest.minLabel ? ` (${newest.minLabel})` : '';
		const high = newest.maxLabel ? ` (${newest.maxLabel})` : '';
		return [
			`task-${taskLabel(newest.stageId)} (stage ${newest.stageId}): "${newest.label || newest.stageTitle}", ${newest.min}${low} to ${newest.max}${high}, sampled at ${newest.sampleRateHz} Hz`
		];
	});
	const sidecar: Record<string, unknown> = {};
	for (const column of EVENTS_COLUMNS) {
		const entry: Record<string, unknown> = { Description: column.description };
		if (column.unit) entry.Units = column.unit;
		sidecar[column.name] = entry;
	}
	(sidecar.value as Record<string, unknown>).LongName = 'Continuous rating';
	if (stageScales.length > 0) {
		(sidecar.value as Record<string, unknown>).Description =
			`${EVENTS_COLUMNS[2]!.description} Scales by task: ${stageScales.join('; ')}.`;
	}
	return sidecar;
}
