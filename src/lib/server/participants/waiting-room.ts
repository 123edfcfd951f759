import type { Database } from '../db';
import type { Participant } from '../db/schema';
import {
	describeWaitingRoom,
	joinOpenRoom,
	joinWaitingRoom,
	leaveWaitingRoom,
	touchWaiting,
	type OpenRoomRequest,
	type WaitingRoomView
} from '../matching';
import { requestFormation } from '../matching/runner';
import { findCurrentPreRoomStage, listAnsweredStageIds } from './journey';
import { loadVersionDefinition } from './versions';

export type EnterWaitingResult =
	{ ok: true } | { ok: false; reason: 'not_ready' | 'wrong_mode' | 'finished' | 'not_found' };

/** Whether the participant has answered every pre-room stage (the waiting room comes after). */
async function hasFinishedPreRoom(db: Database, participant: Participant): Promise<boolean> {
	const definition = await loadVersionDefinition(db, participant.studyId, participant.version);
	if (!definition) return false;
	return !findCurrentPreRoomStage(definition, await listAnsweredStageIds(db, participant.id));
}

/**
 * After the ready check (matched and scheduled modes): into the waiting room, then one
 * formation pass at once, so the participant completing a group does not wait for the
 * runner's next tick. Idempotent (a second tab keeps the place in line).
 */
export async function enterWaitingRoom(
	db: Database,
	participant: Participant,
	now: Date
): Promise<EnterWaitingResult> {
	if (participant.outcome) return { ok: false, reason: 'finished' };
	if (participant.status === 'in_room') return { ok: true };
	if (!(await hasFinishedPreRoom(db, participant))) return { ok: false, reason: 'not_ready' };
	const joined = await joinWaitingRoom(db, participant.id, now);
	if (!joined.ok) {
		if (joined.reason === 'in_room') return { ok: true };
		return { ok: false, reason: joined.reason };
	}
	await requestFormation(db, participant.studyId, now);
	return { ok: true };
}

export type BeatResult = {
	status: Participant['status'] | null;
	view: WaitingRoomView | null;
};

/**
 * The waiting page's heartbeat. Someone marked `left` (their last tab's `pagehide` beacon,
 * e.g. on a refresh, or a lapse past the ghost grace) who still beats is back: they queue again.
 */
export async function beatWaitingRoom(
	db: Database,
	participant: Participant,
	now: Date
): Promise<BeatResult> {
	let touched = await touchWaiting(db, participant.id, now);
	if (!touched.ok && touched.status === 'left') {
		await enterWaitingRoom(db, { ...participant, status: 'left' }, now);
		touched = await touchWaiting(db, participant.id, now);
	}
	const status = touched.ok ? 'waiting' : touched.status;
	const view =
		status === 'waiting'
			? await describeWaitingRoom(db, participant.studyId, participant.version, now)
			: null;
	return { status, view };
}

/** The waiting page was closed (`pagehide` beacon): out of the line, no outcome. */
export async function leaveWaitingRoomByBeacon(db: Database, participant: Participant) {
	return leaveWaitingRoom(db, participant.id);
}

export type JoinRoomResult =
	| { ok: true }
	| {
			ok: false;
			reason:
				| 'not_ready'
				| 'not_found'
				| 'wrong_mode'
				| 'not_allowed'
				| 'unknown_code'
				| 'full'
				| 'finished';
	  };

/** Open mode, after the ready check: join a room by invite code, or start one. */
export async function enterOpenRoom(
	db: Database,
	participant: Participant,
	request: OpenRoomRequest,
	now: Date
): Promise<JoinRoomResult> {
	if (participant.outcome) return { ok: false, reason: 'finished' };
	if (!(await hasFinishedPreRoom(db, participant))) return { ok: false, reason: 'not_ready' };
	const joined = await joinOpenRoom(db, participant.studyId, participant.id, request, now);
	return joined.ok ? { ok: true } : { ok: false, reason: joined.reason };
}
