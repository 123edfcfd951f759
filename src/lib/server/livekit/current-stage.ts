/**
 * Which stage a study room is on now, read from the database so any replica answers alike
 * (the live room may be hosted by another replica, or by none). The log is the record: the
 * last `stage.advanced` says where the room is, `room.finished` that it is over.
 */
import { and, desc, eq, inArray } from 'drizzle-orm';
import { findRoomStartIndex, type Stage, type StudyDefinition } from '$lib/study';
import type { Executor } from '../db';
import { roomEvents, rooms } from '../db/schema';
import { loadVersionDefinition } from '../participants/versions';

/** The log entries that move a room between stages, newest first. */
export type StageEventRow = { name: string; payload: unknown };

export type RoomPosition = {
	/** Index into the definition's stages. */
	stageIndex: number;
	finished: boolean;
};

/**
 * Where a room stands given its newest stage-moving events (newest first; the first two are
 * enough, since nothing follows `room.finished`). Without a `stage.advanced` the room is still
 * on the stage it started at.
 */
export function resolveRoomPosition(
	definition: StudyDefinition,
	newestFirst: readonly StageEventRow[]
): RoomPosition {
	const finished = newestFirst.some((event) => event.name === 'room.finished');
	const advanced = newestFirst.find((event) => event.name === 'stage.advanced');
	const toIndex = (advanced?.payload as { toIndex?: unknown } | undefined)?.toIndex;
	return {
		stageIndex: typeof toIndex === 'number' ? toIndex : findRoomStartIndex(definition),
		finished
	};
}

export type CurrentStage = {
	studyId: string;
	version: number;
	definition: StudyDefinition;
	stageIndex: number;
	/** The stage's base content (resolve variants per member); null past the last stage. */
	stage: Stage | null;
	finished: boolean;
};

export type CurrentStageResult =
	| { ok: true; current: CurrentStage }
	| { ok: false; reason: 'not_a_study_room' | 'version_missing' };

/** The stage study room `roomId` is on now, and whether it has finished. */
export async function readCurrentStage(db: Executor, roomId: string): Promise<CurrentStageResult> {
	const [room] = await db
		.select({ kind: rooms.kind, studyId: rooms.studyId, version: rooms.studyVersion })
		.from(rooms)
		.where(eq(rooms.id, roomId))
		.limit(1);
	if (!room || room.kind !== 'study' || !room.studyId || room.version === null) {
		return { ok: false, reason: 'not_a_study_room' };
	}
	const definition = await loadVersionDefinition(db, room.studyId, room.version);
	if (!definition) return { ok: false, reason: 'version_missing' };
	// Newest first along the log's primary key; two rows are enough (see resolveRoomPosition).
	const newestFirst = await db
		.select({ name: roomEvents.name, payload: roomEvents.payload })
		.from(roomEvents)
		.where(
			and(
				eq(roomEvents.roomId, roomId),
				inArray(roomEvents.name, ['stage.advanced', 'room.finished'])
			)
		)
		.orderBy(desc(roomEvents.seq))
		.limit(2);
	const position = resolveRoomPosition(definition, newestFirst);
	return {
		ok: true,
		current: {
			studyId: room.studyId,
			version: room.version,
			definition,
			stageIndex: position.stageIndex,
			stage: definition.stages[position.stageIndex] ?? null,
			finished: position.finished
		}
	};
}
