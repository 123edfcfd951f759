import { validateStageResponse, type ResponseRefusalReason } from '$lib/study';
import type { Database } from '../db';
import { stageResponses, type Participant } from '../db/schema';
import { giveOutcome } from '../matching/rooms';
import { findCurrentPreRoomStage, listAnsweredStageIds } from './journey';
import { loadVersionDefinition } from './versions';

export type PreRoomResult =
	| { ok: true; stored: boolean }
	| { ok: false; reason: 'not_current' | 'finished' }
	| { ok: false; reason: ResponseRefusalReason; message: string };

/**
 * Stores a participant's response to a pre-room stage (consent, self-paced instructions or
 * questionnaire) once `validateStageResponse` accepts it for the stage. Idempotent by (participant, stage): a double click, a resend or a second tab
 * stores one row, and a resend of an already answered stage is answered `stored: false`.
 * Only the current stage is accepted, so nobody skips ahead. Declining consent gives the
 * `no_consent` outcome, once, in the same transaction as the response.
 */
export async function submitPreRoomResponse(
	db: Database,
	participant: Participant,
	stageId: string,
	raw: unknown,
	now: Date
): Promise<PreRoomResult> {
	const answered = await listAnsweredStageIds(db, participant.id);
	if (answered.has(stageId)) return { ok: true, stored: false };
	if (participant.outcome || participant.status !== 'consenting') {
		return { ok: false, reason: 'finished' };
	}
	const definition = await loadVersionDefinition(db, participant.studyId, participant.version);
	if (!definition) return { ok: false, reason: 'finished' };
	const current = findCurrentPreRoomStage(definition, answered);
	if (!current || current.stage.id !== stageId) return { ok: false, reason: 'not_current' };
	// Before the room nobody has a role or a condition: the stage as everyone sees it.
	const checked = validateStageResponse(current.stage, { role: null, condition: null }, raw);
	if (!checked.ok) return { ok: false, reason: checked.reason, message: checked.message };
	const response = checked.response;
	const stageIndex = definition.stages.findIndex((stage) => stage.id === stageId);

	return db.transaction(async (tx) => {
		// The primary key (participant, stage) makes a concurrent duplicate a no-op.
		const inserted = await tx
			.insert(stageResponses)
			.values({
				participantId: participant.id,
				roomId: null,
				studyId: participant.studyId,
				version: participant.version,
				stageId,
				stageIndex,
				response,
				submittedAt: now
			})
			.onConflictDoNothing()
			.returning({ stageId: stageResponses.stageId });
		if (inserted.length > 0 && response.type === 'consent' && !response.agreed) {
			await giveOutcome(tx, [participant.id], 'no_consent', now);
		}
		return { ok: true as const, stored: inserted.length > 0 };
	});
}
