/**
 * One watched room: its state folded from the log with the room reducer (`applyStudyRoom`), so
 * the monitor shows exactly what the room decided — member stage, submitted, presence — and a
 * summary of it for the dashboard. Pure: the server feeds events in and reads summaries out.
 */
import type { RoomEvent } from '../protocol';
import { applyStudyRoom, type StudyRoomShell } from '../room';
import { currentStage, listActiveMembers, type StudyRoomState } from '../room/study';
import type { MonitorMember, MonitorMemberQuality, MonitorRoom } from './protocol';
import { EMPTY_QUALITY } from './quality';

export type WatchedRoom = {
	id: string;
	shell: StudyRoomShell;
	/** When the group was formed (its first stage started then). */
	formedAt: number;
	/** Server time of the last event folded in (formation time before any). */
	updatedAt: number;
};

/** A room to watch, from its initial state (as every replica builds it) at seq 0. */
export function watchRoom(id: string, initial: StudyRoomState): WatchedRoom {
	const formedAt = initial.stageStartedAt;
	return { id, shell: { seq: 0, study: initial }, formedAt, updatedAt: formedAt };
}

export type FoldResult =
	| { ok: true; room: WatchedRoom; applied: RoomEvent[] }
	/** The events do not follow the head: read the log from `room.shell.seq`. */
	| { ok: false; reason: 'gap' };

/**
 * Folds committed events into a watched room. Events at or below the head are skipped (the
 * same event may come from this replica and from the bus); the rest must follow the head
 * without a hole, else nothing is applied and the caller reads the log instead.
 */
export function foldRoomEvents(room: WatchedRoom, events: readonly RoomEvent[]): FoldResult {
	const fresh = events.filter((event) => event.seq > room.shell.seq);
	if (fresh.length === 0) return { ok: true, room, applied: [] };
	if (fresh.some((event, i) => event.seq !== room.shell.seq + 1 + i)) {
		return { ok: false, reason: 'gap' };
	}
	let shell = room.shell;
	for (const event of fresh) shell = applyStudyRoom(shell, event);
	return { ok: true, room: { ...room, shell, updatedAt: fresh.at(-1)!.at }, applied: fresh };
}

/** Whether any of these events changes the outcome counts (someone got an outcome). */
export function changesOutcomes(events: readonly RoomEvent[]): boolean {
	return events.some((event) => event.name === 'member.outcome');
}

/**
 * The dashboard's view of a room: stage, pause, outcome and one row per member with the
 * latest quality figures (`quality`: member id → figures, from telemetry).
 */
export function summarizeRoom(
	room: WatchedRoom,
	quality: ReadonlyMap<string, MonitorMemberQuality> = new Map()
): MonitorRoom {
	const state = room.shell.study;
	const stage = currentStage(state);
	const waitingFor = listActiveMembers(state).filter((member) => member.present);
	const members: MonitorMember[] = Object.values(state.members).map((member, index) => ({
		id: member.id,
		label: `Member ${index + 1}`,
		role: member.role,
		condition: member.condition,
		isBot: member.isBot,
		connected: member.connected,
		present: member.present,
		submitted: stage ? member.submitted.includes(stage.id) : false,
		outcome: member.outcome,
		quality: quality.get(member.id) ?? EMPTY_QUALITY
	}));
	return {
		id: room.id,
		version: state.version,
		condition: members.find((member) => member.condition !== null)?.condition ?? null,
		formedAt: room.formedAt,
		head: room.shell.seq,
		updatedAt: room.updatedAt,
		stage: {
			index: state.stageIndex,
			count: state.definition.stages.length,
			id: stage?.id ?? null,
			title: stage?.title ?? '',
			type: stage?.type ?? null,
			advance: stage?.advance ?? null,
			startedAt: state.stageStartedAt,
			deadline: state.deadline
		},
		progress: {
			submitted: stage ? waitingFor.filter((m) => m.submitted.includes(stage.id)).length : 0,
			of: waitingFor.length
		},
		paused: state.paused && {
			reason: state.paused.reason,
			since: state.paused.since,
			resumeDeadline: state.paused.resumeDeadline,
			missing: state.paused.missing.length
		},
		finished: state.finished,
		members
	};
}
