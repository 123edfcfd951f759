import { and, eq, inArray, sql } from 'drizzle-orm';
import type { SessionUser } from '../auth/sessions';
import { recordAudit } from '../audit/record';
import type { Database, Executor } from '../db';
import {
	participantExternalIds,
	participants,
	roomEvents,
	roomMembers,
	stageResponses,
	telemetrySamples
} from '../db/schema';
import { withStudyLock } from '../matching/lock';
import { loadStudyForUser } from '../studies/access';
import {
	countRows,
	findParticipantRooms,
	findRunningRooms,
	telemetryOfParticipant
} from './records';
import { REDACTED_EVENT_NAMES, REDACTIONS } from './redact';

/** What one erasure removed or overwrote. */
export type ErasureCounts = {
	participants: number;
	externalIds: number;
	roomMemberships: number;
	stageResponses: number;
	telemetry: number;
	/** Room events whose content (answers, chat, goals, picks) was overwritten; kept in the log. */
	redactedEvents: number;
};

export type EraseResult =
	| { ok: true; counts: ErasureCounts }
	| { ok: false; reason: 'not_found' | 'data_permission' | 'participant_not_found' }
	/** The participant's room is still running (see findRunningRooms): end it first. */
	| { ok: false; reason: 'room_running'; roomIds: string[] };

/**
 * Erases one participant (GDPR erasure), in one transaction: their telemetry, and through the
 * participant row's cascades their external ids, room membership and stage responses; their
 * content in room events is redacted in place (REDACTIONS) so each room's seq stays contiguous
 * and replay still works. Needs the data permission. Refused while one of their rooms is
 * running, because its LiveRoom still holds the old events in memory. Runs under the study's
 * matching lock, so a waiting participant cannot be placed in a group meanwhile. The audit
 * entry (`participant.erase`, with the counts) commits with the erasure.
 */
export async function eraseParticipant(
	db: Database,
	studyId: string,
	participantId: string,
	user: SessionUser
): Promise<EraseResult> {
	// Checked before taking the lock, so a refusal costs no lock; checked again under it.
	const visible = await loadStudyForUser(db, user, studyId);
	if (!visible) return { ok: false, reason: 'not_found' };
	if (!visible.dataAccess) return { ok: false, reason: 'data_permission' };
	return withStudyLock(db, studyId, async (tx): Promise<EraseResult> => {
		const found = await loadStudyForUser(tx, user, studyId);
		if (!found) return { ok: false, reason: 'not_found' };
		if (!found.dataAccess) return { ok: false, reason: 'data_permission' };
		const [participant] = await tx
			.select({ id: participants.id, roomId: participants.roomId })
			.from(participants)
			.where(and(eq(participants.id, participantId), eq(participants.studyId, studyId)))
			.limit(1)
			.for('update');
		if (!participant) return { ok: false, reason: 'participant_not_found' };
		const roomIds = await findParticipantRooms(tx, participantId, participant.roomId);
		const running = await findRunningRooms(tx, roomIds);
		if (running.length > 0) return { ok: false, reason: 'room_running', roomIds: running };

		const counts = await eraseRows(tx, participantId, roomIds);
		await recordAudit(tx, {
			user,
			studyId,
			action: 'participant.erase',
			detail: { participantId, counts }
		});
		return { ok: true, counts };
	});
}

/** The erasure itself; assumes the caller holds the participant row and the study lock. */
async function eraseRows(
	tx: Executor,
	participantId: string,
	roomIds: string[]
): Promise<ErasureCounts> {
	let redactedEvents = 0;
	for (const name of roomIds.length > 0 ? REDACTED_EVENT_NAMES : []) {
		const redacted = await tx
			.update(roomEvents)
			.set({ payload: sql`${roomEvents.payload} || ${JSON.stringify(REDACTIONS[name])}::jsonb` })
			.where(
				and(
					inArray(roomEvents.roomId, roomIds),
					eq(roomEvents.name, name),
					sql`${roomEvents.payload}->>'memberId' = ${participantId}`
				)
			)
			.returning({ seq: roomEvents.seq });
		redactedEvents += redacted.length;
	}
	const count = async (query: Promise<{ n: number }[]>) => (await query)[0]?.n ?? 0;
	// Counted before the deletes: the cascades from `participants` do not report their rows.
	const telemetry = await count(
		tx
			.select({ n: countRows() })
			.from(telemetrySamples)
			.where(telemetryOfParticipant(roomIds, participantId))
	);
	const externalIds = await count(
		tx
			.select({ n: countRows() })
			.from(participantExternalIds)
			.where(eq(participantExternalIds.participantId, participantId))
	);
	const roomMemberships = await count(
		tx
			.select({ n: countRows() })
			.from(roomMembers)
			.where(eq(roomMembers.participantId, participantId))
	);
	const responses = await count(
		tx
			.select({ n: countRows() })
			.from(stageResponses)
			.where(eq(stageResponses.participantId, participantId))
	);
	// Telemetry has no foreign key to the participant (it is written in bulk), so it goes by hand.
	if (roomIds.length > 0) {
		await tx.delete(telemetrySamples).where(telemetryOfParticipant(roomIds, participantId));
	}
	const deleted = await tx
		.delete(participants)
		.where(eq(participants.id, participantId))
		.returning({ id: participants.id });
	return {
		participants: deleted.length,
		externalIds,
		roomMemberships,
		stageResponses: responses,
		telemetry,
		redactedEvents
	};
}
