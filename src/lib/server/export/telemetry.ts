/**
 * The telemetry dataset: one row per stored sample (continuous ratings, sync quality, A/V
 * quality, physiological signals), by room in formation order, then by sender, then in the
 * order the sender's clock put them. A participant's samples therefore arrive together and in
 * time order, which the Psych-DS events files rely on.
 */
import { and, asc, count, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db';
import { telemetrySamples } from '../db/schema';
import {
	column,
	elapsedMs,
	formatJson,
	formatNumber,
	formatText,
	formatTime,
	readField
} from './cells';
import { BATCH_ROWS, PARTICIPANT_COLUMNS, ROOM_COLUMNS, RowBatcher, STUDY_COLUMNS } from './common';
import { loadRoomMembers, type ExportContext, type ExportMember, type ExportRoom } from './context';
import type { Dataset, ExportScope, Row } from './dataset';
import { includedRoomIds, isNotExcluded, qualified } from './filter';

export const TELEMETRY_COLUMNS = [
	...STUDY_COLUMNS,
	...ROOM_COLUMNS,
	...PARTICIPANT_COLUMNS,
	column(
		'kind',
		'string',
		'What the sample measures: video.rating (continuous rating), sync.quality, av.quality, signal.rr, signal.coherence, signal.rating.'
	),
	column('stage_id', 'string', 'The stage the sample was taken on, when the sample says.'),
	column('sample_id', 'string', "The sender's id for the sample (a resent sample is stored once)."),
	column('server_time', 'datetime', 'When the server received the sample (ISO 8601, UTC, ms).'),
	column('onset_ms', 'integer', 'Milliseconds from the room being formed to the sample arriving.', {
		unit: 'ms'
	}),
	column(
		'client_time_ms',
		'number',
		"When the sample was taken, on the sender's clock (ms since 1970, as the device reported it).",
		{ unit: 'ms' }
	),
	column('media_time_s', 'number', 'video.rating: the media position the rating was given at.', {
		unit: 's'
	}),
	column(
		'value',
		'number',
		'The measurement when it is one number: the rating (video.rating, signal.rating, rating) or the coherence score (signal.coherence).'
	),
	column(
		'sync_error_ms',
		'number',
		'sync.quality: target − displayed media time (positive = behind).',
		{ unit: 'ms' }
	),
	column(
		'sync_phase',
		'string',
		'sync.quality: what the player was doing (locked, correcting, seeking, stalled, paused, idle).',
		{ levels: ['locked', 'correcting', 'seeking', 'stalled', 'paused', 'idle'] }
	),
	column('playback_rate', 'number', 'sync.quality: the video element’s playbackRate.'),
	column('clock_offset_ms', 'number', 'sync.quality: estimated server − participant clock.', {
		unit: 'ms'
	}),
	column('rtt_ms', 'number', 'sync.quality: round trip to the server.', { unit: 'ms' }),
	column(
		'av_connection_quality',
		'string',
		"av.quality: the participant's connection to the audio/video service.",
		{ levels: ['excellent', 'good', 'poor', 'lost', 'unknown'] }
	),
	column('payload', 'json', "The sample's full value as JSON (R-R intervals, A/V track figures…).")
];

/** The scalar `value` of the kinds whose sample is one number. */
const SCALAR_KINDS = new Set(['video.rating', 'signal.rating', 'rating', 'signal.coherence']);

/** Samples the filter keeps: sent in an included room, not by an excluded participant. */
function keepsSample(scope: ExportScope): SQL {
	return isNotExcluded(qualified('telemetry_samples', 'actor'), scope.filter);
}

type StoredSample = {
	actor: string;
	sampleId: string;
	kind: string;
	clientTime: number;
	receivedAt: Date;
	value: unknown;
};

/** A sample's one-number value, if it has one. */
function readScalar(kind: string, value: unknown): number | null {
	if (!SCALAR_KINDS.has(kind)) return null;
	return formatNumber(value) ?? formatNumber(readField(value, 'value'));
}

function toTelemetryRow(
	context: ExportContext,
	room: ExportRoom,
	member: ExportMember | undefined,
	sample: StoredSample
): Row {
	const { kind, value } = sample;
	const sync = kind === 'sync.quality';
	return {
		study_id: context.scope.studyId,
		version: room.version,
		room_id: room.id,
		group: room.group,
		participant_id: member ? sample.actor : null,
		role: member?.role ?? null,
		condition: member?.condition ?? null,
		is_bot: member?.isBot ?? null,
		kind,
		stage_id: formatText(readField(value, 'stageId')),
		sample_id: sample.sampleId,
		server_time: formatTime(sample.receivedAt),
		onset_ms: elapsedMs(room.createdAt, sample.receivedAt),
		client_time_ms: formatNumber(sample.clientTime),
		media_time_s: kind === 'video.rating' ? formatNumber(readField(value, 'mediaTime')) : null,
		value: readScalar(kind, value),
		sync_error_ms: sync ? formatNumber(readField(value, 'errorMs')) : null,
		sync_phase: sync ? formatText(readField(value, 'phase')) : null,
		playback_rate: sync ? formatNumber(readField(value, 'rate')) : null,
		clock_offset_ms: sync ? formatNumber(readField(value, 'offsetMs')) : null,
		rtt_ms: sync ? formatNumber(readField(value, 'rttMs')) : null,
		av_connection_quality:
			kind === 'av.quality' ? formatText(readField(value, 'connectionQuality')) : null,
		payload: formatJson(value)
	};
}

/**
 * One sender's samples in a room, in their clock's order, by keyset on (client time, sample
 * id), up to the start of the export.
 */
async function* readSenderSamples(
	db: Executor,
	context: ExportContext,
	roomId: string,
	actor: string
): AsyncGenerator<StoredSample[]> {
	let after: { clientTime: number; sampleId: string } | null = null;
	for (;;) {
		const cursor: SQL | undefined = after
			? sql`(${telemetrySamples.clientTime}, ${telemetrySamples.sampleId}) > (${after.clientTime}::float8, ${after.sampleId})`
			: undefined;
		const samples: StoredSample[] = await db
			.select({
				actor: telemetrySamples.actor,
				sampleId: telemetrySamples.sampleId,
				kind: telemetrySamples.kind,
				clientTime: telemetrySamples.clientTime,
				receivedAt: telemetrySamples.receivedAt,
				value: telemetrySamples.value
			})
			.from(telemetrySamples)
			.where(
				and(
					eq(telemetrySamples.roomId, roomId),
					eq(telemetrySamples.actor, actor),
					lte(telemetrySamples.receivedAt, context.startedAt),
					cursor
				)
			)
			.orderBy(asc(telemetrySamples.clientTime), asc(telemetrySamples.sampleId))
			.limit(BATCH_ROWS);
		if (samples.length > 0) yield samples;
		if (samples.length < BATCH_ROWS) return;
		const last = samples[samples.length - 1]!;
		after = { clientTime: last.clientTime, sampleId: last.sampleId };
	}
}

/** The senders of a room's samples the filter keeps, in id order. */
async function listSenders(db: Executor, scope: ExportScope, roomId: string): Promise<string[]> {
	const rows = await db
		.selectDistinct({ actor: telemetrySamples.actor })
		.from(telemetrySamples)
		.where(and(eq(telemetrySamples.roomId, roomId), keepsSample(scope)))
		.orderBy(asc(telemetrySamples.actor));
	return rows.map((row) => row.actor);
}

async function* readTelemetryRows(db: Executor, context: ExportContext): AsyncGenerator<Row[]> {
	const batcher = new RowBatcher();
	for (const room of context.rooms) {
		if (!room.included) continue;
		const members = await loadRoomMembers(db, context.scope, room.id);
		for (const actor of await listSenders(db, context.scope, room.id)) {
			const member = members.get(actor);
			for await (const samples of readSenderSamples(db, context, room.id, actor)) {
				for (const sample of samples) batcher.push(toTelemetryRow(context, room, member, sample));
				const full = batcher.takeFull();
				if (full) yield full;
			}
		}
	}
	const rest = batcher.take();
	if (rest.length > 0) yield rest;
}

/** Samples the export would contain now. */
export async function countTelemetry(db: Executor, scope: ExportScope): Promise<number> {
	const [row] = await db
		.select({ n: count() })
		.from(telemetrySamples)
		.where(
			and(
				inArray(telemetrySamples.roomId, includedRoomIds(scope.studyId, scope.filter)),
				keepsSample(scope)
			)
		);
	return row?.n ?? 0;
}

/** The telemetry dataset of an export. */
export function createTelemetryDataset(db: Executor, context: ExportContext): Dataset {
	return {
		name: 'telemetry',
		description:
			'One row per telemetry sample: continuous ratings, sync quality, A/V quality and physiological signals.',
		columns: TELEMETRY_COLUMNS,
		batches: () => readTelemetryRows(db, context),
		count: () => countTelemetry(db, context.scope)
	};
}
