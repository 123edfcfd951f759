import * as v from 'valibot';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import type { RealtimeHub } from '../realtime/hub';
import { experimenterActor } from '../realtime/upgrade';
import { canEditStudy, loadStudyForUser } from '../studies/access';
import { isStudyRoom } from './queries';

/** The room commands the monitor sends (the reducer checks each payload and the sender). */
export const MONITOR_COMMANDS = [
	'stage.advance',
	'room.pause',
	'room.resume',
	'room.end',
	'member.remove',
	'room.message'
] as const;

/**
 * `POST /api/studies/<id>/monitor/rooms/<roomId>/commands`. `id` is the caller's command id:
 * a retry with the same id is applied once (and answered with the same seq).
 */
export const MonitorCommandRequestSchema = v.strictObject({
	id: v.pipe(v.string(), v.regex(/^[\w.:-]{1,64}$/, 'id must be 1–64 letters, digits or .:-_')),
	name: v.picklist(MONITOR_COMMANDS),
	payload: v.optional(v.record(v.string(), v.unknown()), {})
});
export type MonitorCommandRequest = v.InferOutput<typeof MonitorCommandRequestSchema>;

export type MonitorCommandResult =
	| { ok: true; seq: number }
	| { ok: false; reason: 'not_found' | 'forbidden' | 'room_not_found' | 'unavailable' }
	/** The room refused it (`code`: the reducer's reason, e.g. `stale_advance`, `room_finished`). */
	| { ok: false; reason: 'rejected'; code: string; message: string };

/**
 * Runs an experimenter's intervention in one of the study's rooms: a durable room event
 * attributed to them (`u:<user id>`), decided by the room's reducer like any command, on
 * whichever replica this request reached. Needs edit access to the study.
 */
export async function runMonitorCommand(
	db: Database,
	hub: Pick<RealtimeHub, 'submitCommandAs'> | undefined,
	user: SessionUser,
	studyId: string,
	roomId: string,
	request: MonitorCommandRequest
): Promise<MonitorCommandResult> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	if (!canEditStudy(found.access)) return { ok: false, reason: 'forbidden' };
	if (!(await isStudyRoom(db, studyId, roomId))) return { ok: false, reason: 'room_not_found' };
	if (!hub) return { ok: false, reason: 'unavailable' };
	const result = await hub.submitCommandAs(
		roomId,
		experimenterActor(user),
		request.name,
		request.payload,
		request.id
	);
	if (result.ok) return { ok: true, seq: result.seq };
	if (result.reason === 'room_not_found') return { ok: false, reason: 'room_not_found' };
	if (result.reason === 'unavailable' || result.reason === 'commit_failed') {
		return { ok: false, reason: 'unavailable' };
	}
	return { ok: false, reason: 'rejected', code: result.reason, message: result.message };
}
