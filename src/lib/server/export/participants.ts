/**
 * The participants dataset: one row per participant with their outcome, completion code,
 * timings, assignment, bot flag, sync and A/V quality summaries, the study-link parameters the
 * study lists as safe, and — only for users with the data permission who ask for identifying
 * data — their recruiting-platform ids (e.g. Prolific's PROLIFIC_PID) and every other link
 * parameter.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { StudyDefinition } from '../../study';
import type { Executor } from '../db';
import {
	participantExternalIds,
	participants,
	stageResponses,
	telemetrySamples
} from '../db/schema';
import { listSafeLinkParameters } from '../../study/links';
import { selectShareableLinkParams } from '../participants/link-params';
import { column, elapsedMs, formatJson, formatTime } from './cells';
import { PARTICIPANT_COLUMNS, ROOM_COLUMNS, RowBatcher, STUDY_COLUMNS } from './common';
import type { ExportContext } from './context';
import type { Column, Dataset, ExportScope, Row } from './dataset';
import {
	countParticipants,
	readParticipantBatches,
	type ExportParticipant
} from './participant-batches';
import { summarizeAvQuality, summarizeParticipantSync } from './quality';

/**
 * Participants per batch here: each brings every sync and A/V sample they sent (about one a
 * second on a video stage), so a small batch keeps that bounded.
 */
const QUALITY_BATCH = 50;

const SYNC_QUALITY_KIND = 'sync.quality';
const AV_QUALITY_KIND = 'av.quality';

export const PARTICIPANTS_COLUMNS: Column[] = [
	...STUDY_COLUMNS,
	...PARTICIPANT_COLUMNS,
	...ROOM_COLUMNS,
	column(
		'status',
		'string',
		'Where the participant stands: consenting, waiting, in_room, finished, left.',
		{
			levels: ['consenting', 'waiting', 'in_room', 'finished', 'left']
		}
	),
	column('outcome', 'string', 'How their participation ended; empty while it has not.', {
		levels: [
			'completed',
			'no_consent',
			'lobby_timeout',
			'dropout',
			'technical_error',
			'screened_out'
		]
	}),
	column(
		'completion_code',
		'string',
		"The completion code the study's version shows for their outcome (e.g. for Prolific); empty when none."
	),
	column('arrived_at', 'datetime', 'When they started the study (ISO 8601, UTC, ms).'),
	column('matched_at', 'datetime', 'When they were formed into their room; empty if never.'),
	column('finished_at', 'datetime', 'When they got their outcome; empty while they have none.'),
	column('last_seen_at', 'datetime', 'The last sign of life from their browser.'),
	column('duration_s', 'number', 'Seconds from arrival to outcome.', { unit: 's' }),
	column('stages_submitted', 'integer', 'Stages they submitted an answer for.'),
	column('stages_incomplete', 'integer', 'Data stages that ended without their answer.'),
	column(
		'link_params',
		'json',
		'Other parameters of the study link they arrived with. Only those the study lists as safe, unless the export includes identifying data (externalIds=1, data permission).'
	),
	column('sync_samples', 'integer', 'sync.quality samples they sent on synchronized video stages.'),
	column(
		'sync_error_p50_ms',
		'number',
		'Median |target − displayed media time| while playing normally (locked or correcting), over all their video stages.',
		{ unit: 'ms' }
	),
	column('sync_error_p95_ms', 'number', '95th percentile of the same sync error.', { unit: 'ms' }),
	column('sync_error_max_ms', 'number', 'Largest of the same sync error.', { unit: 'ms' }),
	column('sync_stalled_s', 'number', 'Approximate seconds their video was stalled (buffering).', {
		unit: 's'
	}),
	column('sync_seeks', 'integer', 'Most corrective seeks their player made on one video stage.'),
	column('clock_offset_p50_ms', 'number', 'Median estimate of server − participant clock.', {
		unit: 'ms'
	}),
	column('rtt_p50_ms', 'number', 'Median round trip to the server.', { unit: 'ms' }),
	column(
		'av_reports',
		'integer',
		'av.quality reports sent on conversation stages (about every 5 s).'
	),
	column(
		'av_poor_share',
		'number',
		'Share (0–1) of those reports whose connection was poor or lost.'
	),
	column('av_packets_lost', 'integer', 'Audio/video packets lost over the conversation.'),
	column('av_jitter_p95_ms', 'number', '95th percentile of audio/video track jitter.', {
		unit: 'ms'
	}),
	column('av_video_receive_kbps_p50', 'number', 'Median bitrate of the video they received.', {
		unit: 'kbit/s'
	})
];

type ExternalIdName = { source: string; name: string };

/** The external-id column of one source and parameter, e.g. `ext.prolific.PROLIFIC_PID`. */
export function externalIdColumnName(id: ExternalIdName): string {
	return `ext.${id.source}.${id.name}`;
}

/** The external-id names any of the study's participants has, in a stable order. */
async function listExternalIdNames(db: Executor, studyId: string): Promise<ExternalIdName[]> {
	return db
		.selectDistinct({ source: participantExternalIds.source, name: participantExternalIds.name })
		.from(participantExternalIds)
		.innerJoin(participants, eq(participants.id, participantExternalIds.participantId))
		.where(eq(participants.studyId, studyId))
		.orderBy(asc(participantExternalIds.source), asc(participantExternalIds.name));
}

/**
 * The link parameters the study lists as safe, by its newest published version: the study's
 * current word on what identifies nobody (taking a name off the list hides it at once, for
 * participants of every version).
 */
function readSafeLinkParameters(scope: ExportScope): Set<string> {
	const newest = Math.max(...scope.definitions.keys());
	const definition = scope.definitions.get(newest);
	return new Set(definition ? listSafeLinkParameters(definition.settings) : []);
}

function completionCode(
	definition: StudyDefinition | undefined,
	outcome: ExportParticipant['outcome']
): string | null {
	if (!definition || outcome === null) return null;
	const code = definition.settings.outcomes[outcome]?.completionCode ?? '';
	return code === '' ? null : code;
}

type BatchExtras = {
	stages: Map<string, { submitted: number; incomplete: number }>;
	sync: Map<string, unknown[]>;
	av: Map<string, unknown[]>;
	external: Map<string, Map<string, string>>;
};

/** Stage counts, quality samples and (when asked) external ids of a batch. */
async function loadBatchExtras(
	db: Executor,
	scope: ExportScope,
	batch: ExportParticipant[]
): Promise<BatchExtras> {
	const ids = batch.map((p) => p.id);
	const roomIds = [...new Set(batch.flatMap((p) => (p.roomId === null ? [] : [p.roomId])))];
	const stageRows = await db
		.select({
			participantId: stageResponses.participantId,
			submitted:
				sql<number>`count(*) filter (where ${stageResponses.status} = 'submitted')`.mapWith(Number),
			incomplete:
				sql<number>`count(*) filter (where ${stageResponses.status} = 'incomplete')`.mapWith(Number)
		})
		.from(stageResponses)
		.where(inArray(stageResponses.participantId, ids))
		.groupBy(stageResponses.participantId);
	const samples =
		roomIds.length === 0
			? []
			: await db
					.select({
						actor: telemetrySamples.actor,
						kind: telemetrySamples.kind,
						value: telemetrySamples.value
					})
					.from(telemetrySamples)
					.where(
						and(
							inArray(telemetrySamples.roomId, roomIds),
							inArray(telemetrySamples.actor, ids),
							inArray(telemetrySamples.kind, [SYNC_QUALITY_KIND, AV_QUALITY_KIND])
						)
					);
	const sync = new Map<string, unknown[]>();
	const av = new Map<string, unknown[]>();
	for (const sample of samples) {
		const target = sample.kind === SYNC_QUALITY_KIND ? sync : av;
		const list = target.get(sample.actor);
		if (list) list.push(sample.value);
		else target.set(sample.actor, [sample.value]);
	}
	const external = new Map<string, Map<string, string>>();
	if (scope.includeExternalIds) {
		const rows = await db
			.select()
			.from(participantExternalIds)
			.where(inArray(participantExternalIds.participantId, ids));
		for (const row of rows) {
			const values = external.get(row.participantId) ?? new Map<string, string>();
			values.set(externalIdColumnName(row), row.value);
			external.set(row.participantId, values);
		}
	}
	return {
		stages: new Map(stageRows.map((row) => [row.participantId, row])),
		sync,
		av,
		external
	};
}

/** What shapes every participant row alike: the external-id columns, the safe link parameters. */
type RowShape = { externalColumns: string[]; safeLinkParameters: ReadonlySet<string> };

function toParticipantRow(
	context: ExportContext,
	shape: RowShape,
	participant: ExportParticipant,
	extras: BatchExtras
): Row {
	const { scope } = context;
	const definition = scope.definitions.get(participant.version);
	const sync = summarizeParticipantSync(extras.sync.get(participant.id) ?? []);
	const av = summarizeAvQuality(extras.av.get(participant.id) ?? []);
	const stages = extras.stages.get(participant.id);
	const duration = elapsedMs(participant.createdAt, participant.outcomeAt);
	const row: Row = {
		study_id: scope.studyId,
		version: participant.version,
		participant_id: participant.id,
		role: participant.role,
		condition: participant.condition,
		is_bot: participant.isBot,
		room_id: participant.roomId,
		group:
			participant.roomId === null
				? null
				: (context.roomsById.get(participant.roomId)?.group ?? null),
		status: participant.status,
		outcome: participant.outcome,
		completion_code: completionCode(definition, participant.outcome),
		arrived_at: formatTime(participant.createdAt),
		matched_at: formatTime(participant.joinedAt),
		finished_at: formatTime(participant.outcomeAt),
		last_seen_at: formatTime(participant.lastSeenAt),
		duration_s: duration === null ? null : duration / 1000,
		stages_submitted: stages?.submitted ?? 0,
		stages_incomplete: stages?.incomplete ?? 0,
		link_params: formatJson(
			selectShareableLinkParams(
				participant.linkParams,
				shape.safeLinkParameters,
				scope.includeExternalIds
			)
		),
		sync_samples: sync.samples,
		sync_error_p50_ms: sync.errorP50Ms,
		sync_error_p95_ms: sync.errorP95Ms,
		sync_error_max_ms: sync.errorMaxMs,
		sync_stalled_s: sync.samples === 0 ? null : sync.stalledSeconds,
		sync_seeks: sync.samples === 0 ? null : sync.seeks,
		clock_offset_p50_ms: sync.offsetP50Ms,
		rtt_p50_ms: sync.rttP50Ms,
		av_reports: av.reports,
		av_poor_share: av.poorShare,
		av_packets_lost: av.reports === 0 ? null : av.packetsLost,
		av_jitter_p95_ms: av.jitterP95Ms,
		av_video_receive_kbps_p50: av.videoReceiveKbpsP50
	};
	const external = extras.external.get(participant.id);
	for (const name of shape.externalColumns) row[name] = external?.get(name) ?? null;
	return row;
}

async function* readParticipantRows(
	db: Executor,
	context: ExportContext,
	shape: RowShape
): AsyncGenerator<Row[]> {
	const batcher = new RowBatcher();
	for await (const batch of readParticipantBatches(db, context.scope, QUALITY_BATCH)) {
		const extras = await loadBatchExtras(db, context.scope, batch);
		for (const participant of batch) {
			batcher.push(toParticipantRow(context, shape, participant, extras));
		}
		const full = batcher.takeFull();
		if (full) yield full;
	}
	const rest = batcher.take();
	if (rest.length > 0) yield rest;
}

/**
 * The participants dataset of an export. External-id columns (one per source and parameter
 * any participant of the study has) exist only when the scope includes them.
 */
export async function createParticipantsDataset(
	db: Executor,
	context: ExportContext
): Promise<Dataset> {
	const { scope } = context;
	const names = scope.includeExternalIds ? await listExternalIdNames(db, scope.studyId) : [];
	const externalColumns = names.map((id) =>
		column(
			externalIdColumnName(id),
			'string',
			`The participant's ${id.name} from ${id.source} (recruiting-platform id; identifying).`
		)
	);
	return {
		name: 'participants',
		description:
			'One row per participant: outcome, completion code, timings, assignment, sync and A/V quality.',
		columns: [...PARTICIPANTS_COLUMNS, ...externalColumns],
		batches: () =>
			readParticipantRows(db, context, {
				externalColumns: externalColumns.map((c) => c.name),
				safeLinkParameters: readSafeLinkParameters(scope)
			}),
		count: () => countParticipants(db, scope)
	};
}
