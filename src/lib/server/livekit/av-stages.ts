/**
 * What conversation stages do in LiveKit, as effects of a study room's committed events, on the
 * replica that committed them (issue 7):
 * - recording: entering a `conversation` stage whose content asks to `record` starts a LiveKit
 *   room-composite egress; leaving it (or the room finishing on it) stops it. The egress id,
 *   file and times are logged in the room as `av.recorded` (aligned to the room clock); a
 *   failure is logged as `recording_failed` and never touches the experiment;
 * - closing: leaving a conversation stage (or finishing on one) closes the LiveKit room, which
 *   disconnects everyone: tokens only gate joining, so a client that stays would otherwise keep
 *   talking after the stage.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { RoomEvent } from '../../protocol';
import type { AvRecordPayload } from '../../room/study';
import type { Stage } from '../../study';
import type { Database } from '../db';
import { roomEvents } from '../db/schema';
import type { StudyRoomSetup } from '../rooms/study-rooms';
import type { EgressApi } from './egress';
import { livekitRoomName } from './room-name';
import type { LiveKitService } from './service';
import type { SubmitAvRecord } from './webhooks';

export type AvStageDeps = {
	db: Database;
	egress: EgressApi;
	rooms: Pick<LiveKitService, 'deleteRoom'>;
	submit: SubmitAvRecord;
	now: () => number;
};

const isConversation = (stage: Stage | undefined): stage is Stage => stage?.type === 'conversation';
const isRecorded = (stage: Stage | undefined): stage is Stage =>
	stage?.type === 'conversation' && stage.content.record;

/** Where a stage's recording goes, under the egress service's storage. */
export function recordingPath(roomId: string, stageId: string): string {
	return `ensemble/${roomId}/${stageId}-{time}.mp4`;
}

/** Starts and stops recordings, and closes rooms, for the stage changes in `events`. */
export async function manageAvStages(
	deps: AvStageDeps,
	roomId: string,
	setup: StudyRoomSetup,
	events: RoomEvent[]
): Promise<void> {
	const stages = setup.definition.stages;
	/** The stage the room stands on after each event, to know what a finish stops. */
	let current: string | null = null;
	/** Stages whose recording this commit already stopped: one stop each. */
	const stopped = new Set<string>();
	const stop = async (stage: Stage) => {
		if (stopped.has(stage.id)) return;
		stopped.add(stage.id);
		if (isRecorded(stage)) await stopRecordings(deps, roomId, stage.id);
		// Failures are the next join's problem, not the experiment's: nothing to log.
		await deps.rooms.deleteRoom(livekitRoomName(roomId));
	};
	for (const event of events) {
		// The room's first commit: it may have been formed straight onto a recorded stage.
		if (event.seq === 1 && isRecorded(stages[setup.startStageIndex])) {
			await startRecording(deps, roomId, stages[setup.startStageIndex]!);
		}
		if (event.name === 'stage.advanced') {
			const { fromStageId, toStageId } = event.payload as {
				fromStageId: string;
				toStageId: string;
			};
			const from = stages.find((stage) => stage.id === fromStageId);
			const to = stages.find((stage) => stage.id === toStageId);
			if (isConversation(from)) await stop(from);
			if (isRecorded(to)) await startRecording(deps, roomId, to);
			current = toStageId;
		}
		if (event.name === 'room.finished') {
			// Finished on a recorded stage (a dropout, the experimenter): stop its recording.
			const stageId = current ?? (await findCurrentStageId(deps.db, roomId, setup));
			const stage = stages.find((candidate) => candidate.id === stageId);
			if (isConversation(stage)) await stop(stage);
		}
	}
}

/** The stage a room stands on, from its log: the last advance, else where it started. */
async function findCurrentStageId(
	db: Database,
	roomId: string,
	setup: StudyRoomSetup
): Promise<string | null> {
	const [last] = await db
		.select({ payload: roomEvents.payload })
		.from(roomEvents)
		.where(and(eq(roomEvents.roomId, roomId), eq(roomEvents.name, 'stage.advanced')))
		.orderBy(desc(roomEvents.seq))
		.limit(1);
	const advanced = last?.payload as { toStageId?: string } | undefined;
	return advanced?.toStageId ?? setup.definition.stages[setup.startStageIndex]?.id ?? null;
}

async function startRecording(deps: AvStageDeps, roomId: string, stage: Stage): Promise<void> {
	// Effects may run twice (a retried write): one recording per stage.
	if ((await findStartedEgresses(deps.db, roomId, stage.id)).length > 0) return;
	const started = await deps.egress.startRoomComposite(
		livekitRoomName(roomId),
		recordingPath(roomId, stage.id)
	);
	const at = deps.now();
	if (!started.ok) {
		await deps.submit(
			roomId,
			{ kind: 'recording_failed', stageId: stage.id, message: started.message, at },
			`rec-failed-${stage.id}`
		);
		return;
	}
	const record: AvRecordPayload = {
		kind: 'egress_started',
		egressId: started.value.egressId,
		stageId: stage.id,
		file: started.value.filepath,
		status: started.value.status,
		error: null,
		at
	};
	await deps.submit(roomId, record, `egress-${started.value.egressId}`);
}

/** Stops the recordings started for `stageId`. */
async function stopRecordings(deps: AvStageDeps, roomId: string, stageId: string): Promise<void> {
	for (const egressId of await findStartedEgresses(deps.db, roomId, stageId)) {
		// Stopping one that already ended is refused by LiveKit: nothing to do then.
		await deps.egress.stop(egressId);
	}
}

/** The egress ids we started in `roomId` for `stageId`, from the room's log. */
async function findStartedEgresses(
	db: Database,
	roomId: string,
	stageId: string
): Promise<string[]> {
	const rows = await db
		.select({ payload: roomEvents.payload })
		.from(roomEvents)
		.where(
			and(
				eq(roomEvents.roomId, roomId),
				eq(roomEvents.name, 'av.recorded'),
				sql`${roomEvents.payload}->>'kind' = 'egress_started'`,
				sql`${roomEvents.payload}->>'stageId' = ${stageId}`
			)
		);
	return rows.map((row) => (row.payload as { egressId: string }).egressId);
}
