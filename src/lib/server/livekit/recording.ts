/**
 * Recording conversation stages (issue 7, item 4): when a room enters a `conversation` stage
 * whose content asks to `record`, a LiveKit room-composite egress starts; when the room leaves
 * it (or finishes on it), the egress stops. The egress id, file and times are logged in the
 * room as `av.recorded` events (aligned to the room clock); a failure is logged as
 * `recording_failed` and never touches the experiment. Runs as an effect of committed events,
 * on the replica that committed them.
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
import type { SubmitAvRecord } from './webhooks';

export type RecordingDeps = {
	db: Database;
	egress: EgressApi;
	submit: SubmitAvRecord;
	now: () => number;
};

const isRecorded = (stage: Stage | undefined): stage is Stage =>
	stage?.type === 'conversation' && stage.content.record;

/** Where a stage's recording goes, under the egress service's storage. */
export function recordingPath(roomId: string, stageId: string): string {
	return `ensemble/${roomId}/${stageId}-{time}.mp4`;
}

/** Starts and stops recordings for the stage changes in `events` (one commit's worth). */
export async function manageRecordings(
	deps: RecordingDeps,
	roomId: string,
	setup: StudyRoomSetup,
	events: RoomEvent[]
): Promise<void> {
	const stages = setup.definition.stages;
	/** The stage the room stands on after each event, to know what a finish stops. */
	let current: string | null = null;
	/** Stages whose recording this commit already stopped: one stop each. */
	const stopped = new Set<string>();
	const stop = async (stageId: string) => {
		if (stopped.has(stageId)) return;
		stopped.add(stageId);
		await stopRecordings(deps, roomId, stageId);
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
			if (isRecorded(from)) await stop(from.id);
			if (isRecorded(to)) await startRecording(deps, roomId, to);
			current = toStageId;
		}
		if (event.name === 'room.finished') {
			// Finished on a recorded stage (a dropout, the experimenter): stop its recording.
			const stageId = current ?? (await findCurrentStageId(deps.db, roomId, setup));
			const stage = stages.find((candidate) => candidate.id === stageId);
			if (isRecorded(stage)) await stop(stage.id);
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

async function startRecording(deps: RecordingDeps, roomId: string, stage: Stage): Promise<void> {
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
async function stopRecordings(deps: RecordingDeps, roomId: string, stageId: string): Promise<void> {
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
