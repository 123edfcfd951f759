/**
 * The long events dataset: one row per room event, in room formation order and then log
 * order, with the stage the room was on, the time from the room's start, the participant's
 * clock offset and, on a synchronized video stage, where the video was.
 */
import { and, count, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { findRoomStartIndex, type StudyDefinition } from '../../study';
import { parsePlaybackSchedule, targetMediaTime, type PlaybackSchedule } from '../../sync/schedule';
import type { Executor } from '../db';
import { roomEvents, telemetrySamples } from '../db/schema';
import { column, elapsedMs, formatTime } from './cells';
import {
	PARTICIPANT_COLUMNS,
	ROOM_COLUMNS,
	RowBatcher,
	STUDY_COLUMNS,
	eventSubject,
	readRoomEvents,
	type StoredEvent
} from './common';
import { loadRoomMembers, type ExportContext, type ExportMember, type ExportRoom } from './context';
import type { Dataset, ExportScope, Row } from './dataset';
import { includedRoomIds, isNotExcluded } from './filter';

/** A JSON text's value, or undefined when it is not JSON. */
function parseJson(text: string | null): unknown {
	if (text === null) return undefined;
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** Telemetry kind whose `offsetMs` is the client's clock estimate (`$lib/sync/quality`). */
const SYNC_QUALITY_KIND = 'sync.quality';

/** Room events the filter keeps: those not about an excluded participant. */
function keepsEvent(scope: ExportScope): SQL {
	return isNotExcluded(eventSubject, scope.filter);
}

export const EVENT_COLUMNS = [
	...STUDY_COLUMNS,
	column('version_hash', 'string', "SHA-256 of the version's canonical definition."),
	...ROOM_COLUMNS,
	column('seq', 'integer', "The event's position in the room's log (1, 2, 3…)."),
	column('type', 'string', 'What happened, e.g. stage.submitted, stage.advanced, chat.sent.'),
	column('server_time', 'datetime', 'When the server committed the event (ISO 8601, UTC, ms).'),
	column('onset_ms', 'integer', 'Milliseconds from the room being formed to the event.', {
		unit: 'ms'
	}),
	column(
		'stage_id',
		'string',
		'The stage the event belongs to (after a stage.advanced: the stage entered).'
	),
	column('stage_index', 'integer', "The stage's position in the study (0 = first)."),
	...PARTICIPANT_COLUMNS,
	column(
		'actor_type',
		'string',
		'Who caused the event: a participant, an experimenter (intervention) or the system (timers, rules).',
		{ levels: ['participant', 'experimenter', 'system'] }
	),
	column(
		'clock_offset_ms',
		'number',
		"Median estimate of server clock minus the participant's clock in this room (from sync.quality telemetry); empty without one.",
		{ unit: 'ms' }
	),
	column(
		'client_time',
		'datetime',
		"The participant's clock at the event, estimated as server_time − clock_offset_ms; empty without an offset."
	),
	column(
		'media_time_s',
		'number',
		'On a synchronized video stage: the media position the room schedule asked for at the event.',
		{ unit: 's' }
	),
	column(
		'cause',
		'string',
		'Why the room moved on or the video changed (stage.advanced, playback.scheduled).'
	),
	column('outcome', 'string', 'The outcome given (member.outcome, room.finished).'),
	column(
		'value',
		'string',
		'The content: a response as JSON (stage.submitted), the option (group_choice.picked), the text (chat.sent, goal.set).'
	),
	column('payload', 'json', "The event's full payload as JSON.")
];

/** Where a room is in its study as its log is read in order. */
class RoomTimeline {
	#definition: StudyDefinition | undefined;
	#stageIndex: number | null;
	#schedule: { stageId: string; schedule: PlaybackSchedule } | null = null;

	constructor(definition: StudyDefinition | undefined) {
		this.#definition = definition;
		this.#stageIndex = definition ? findRoomStartIndex(definition) : null;
	}

	/** Folds in an event (before its row is made: a stage.advanced row shows the stage entered). */
	observe(event: StoredEvent): void {
		if (event.name === 'stage.advanced') {
			const index = event.toIndex === null ? Number.NaN : Number(event.toIndex);
			if (Number.isInteger(index)) this.#stageIndex = index;
			this.#schedule = null;
		} else if (event.name === 'playback.scheduled' && event.stageId !== null) {
			const parsed = parsePlaybackSchedule(parseJson(event.schedule));
			if (parsed.ok) this.#schedule = { stageId: event.stageId, schedule: parsed.schedule };
		}
	}

	/** The stage of an event: the one its payload names, else the room's current one. */
	stageOf(event: StoredEvent): { id: string | null; index: number | null } {
		const stages = this.#definition?.stages ?? [];
		if (event.stageId !== null) {
			const index = stages.findIndex((stage) => stage.id === event.stageId);
			return { id: event.stageId, index: index === -1 ? null : index };
		}
		if (this.#stageIndex === null) return { id: null, index: null };
		return { id: stages[this.#stageIndex]?.id ?? null, index: this.#stageIndex };
	}

	/** The scheduled media position (s) at `atMs` when `stageId` is the scheduled video. */
	mediaTimeAt(stageId: string | null, atMs: number): number | null {
		if (!this.#schedule || stageId === null || this.#schedule.stageId !== stageId) return null;
		return targetMediaTime(this.#schedule.schedule, atMs);
	}
}

/**
 * Each participant's median clock offset in a room (server − client, ms), from their
 * `sync.quality` samples; the nearest-rank median, as `$lib/sync/quality` reports it.
 */
async function loadClockOffsets(db: Executor, roomId: string): Promise<Map<string, number>> {
	const offset = sql`${telemetrySamples.value}->'offsetMs'`;
	const rows = await db
		.select({
			actor: telemetrySamples.actor,
			offset:
				sql<number>`percentile_disc(0.5) within group (order by (${telemetrySamples.value}->>'offsetMs')::float8)`.mapWith(
					Number
				)
		})
		.from(telemetrySamples)
		.where(
			and(
				eq(telemetrySamples.roomId, roomId),
				eq(telemetrySamples.kind, SYNC_QUALITY_KIND),
				sql`jsonb_typeof(${offset}) = 'number'`
			)
		)
		.groupBy(telemetrySamples.actor);
	return new Map(rows.map((row) => [row.actor, row.offset]));
}

function describeActor(actor: string, members: Map<string, ExportMember>): string {
	if (actor === 'system') return 'system';
	return members.has(actor) ? 'participant' : 'experimenter';
}

/** The row of one event. */
function toEventRow(
	context: ExportContext,
	room: ExportRoom,
	members: Map<string, ExportMember>,
	offsets: Map<string, number>,
	timeline: RoomTimeline,
	event: StoredEvent
): Row {
	timeline.observe(event);
	const stage = timeline.stageOf(event);
	const participantId = event.subject ?? (members.has(event.actor) ? event.actor : null);
	const member = participantId === null ? undefined : members.get(participantId);
	const offset = participantId === null ? undefined : offsets.get(participantId);
	const atMs = event.at.getTime();
	return {
		study_id: context.scope.studyId,
		version: room.version,
		version_hash: context.hashes.get(room.version) ?? null,
		room_id: room.id,
		group: room.group,
		seq: event.seq,
		type: event.name,
		server_time: formatTime(event.at),
		onset_ms: elapsedMs(room.createdAt, event.at),
		stage_id: stage.id,
		stage_index: stage.index,
		participant_id: participantId,
		role: member?.role ?? null,
		condition: member?.condition ?? null,
		is_bot: member?.isBot ?? null,
		actor_type: describeActor(event.actor, members),
		clock_offset_ms: offset ?? null,
		client_time: offset === undefined ? null : formatTime(atMs - offset),
		media_time_s: timeline.mediaTimeAt(stage.id, atMs),
		cause: event.cause,
		outcome: event.outcome,
		value: event.value,
		payload: event.payload
	};
}

async function* readEventRows(db: Executor, context: ExportContext): AsyncGenerator<Row[]> {
	const batcher = new RowBatcher();
	const keep = keepsEvent(context.scope);
	for (const room of context.rooms) {
		if (!room.included) continue;
		const members = await loadRoomMembers(db, context.scope, room.id);
		const offsets = await loadClockOffsets(db, room.id);
		const timeline = new RoomTimeline(context.scope.definitions.get(room.version));
		for await (const events of readRoomEvents(db, room, keep)) {
			for (const event of events) {
				batcher.push(toEventRow(context, room, members, offsets, timeline, event));
			}
			const full = batcher.takeFull();
			if (full) yield full;
		}
	}
	const rest = batcher.take();
	if (rest.length > 0) yield rest;
}

/** Events the export would contain now. */
export async function countEvents(db: Executor, scope: ExportScope): Promise<number> {
	const [row] = await db
		.select({ n: count() })
		.from(roomEvents)
		.where(
			and(
				inArray(roomEvents.roomId, includedRoomIds(scope.studyId, scope.filter)),
				keepsEvent(scope)
			)
		);
	return row?.n ?? 0;
}

/** The events dataset of an export. */
export function createEventsDataset(db: Executor, context: ExportContext): Dataset {
	return {
		name: 'events',
		description: 'One row per room event: everything that happened in each room, in order.',
		columns: EVENT_COLUMNS,
		batches: () => readEventRows(db, context),
		count: () => countEvents(db, context.scope)
	};
}
