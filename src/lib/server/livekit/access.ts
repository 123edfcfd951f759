/**
 * Who gets a LiveKit token for which room: participants for their own room while it is on a
 * conversation stage, experimenters with access to the study as hidden observers. Everything
 * is decided from the database (the participant's row, the room's log), never from the request.
 */
import { resolveStageContent } from '$lib/study';
import type { SessionUser } from '../auth/sessions';
import type { LiveKitSettings } from '../config/env';
import type { Database } from '../db';
import { findLinkParticipant } from '../participants/journey';
import { loadStudyForUser } from '../studies/access';
import { readCurrentStage } from './current-stage';
import { mintObserverToken, mintParticipantToken, type LiveKitToken } from './tokens';

/** Room ids are at most 64 characters (the socket path's pattern); longer ones never exist. */
const MAX_ROOM_ID_LENGTH = 64;

export type ParticipantTokenRequest = {
	db: Database;
	/** Null when LiveKit is not configured on this server. */
	config: LiveKitSettings | null;
	slug: string;
	/** The token from the study's participant cookie. */
	cookieToken: string | null;
	now: number;
};

export type ParticipantTokenResult =
	| { ok: true; token: LiveKitToken }
	| {
			ok: false;
			/**
			 * `no_participant`: no valid cookie for this study; `not_configured`: no LiveKit here;
			 * `not_in_room`: waiting, before the room, with an outcome, or the room has finished;
			 * `not_on_conversation`: in a room whose current stage is not a conversation.
			 */
			reason: 'no_participant' | 'not_configured' | 'not_in_room' | 'not_on_conversation';
	  };

/**
 * A participant's token for their room's conversation. Checked in this order: who they are,
 * whether this server has LiveKit, whether they are in a running room, and whether that room
 * is on a conversation stage now. Grants follow the stage as their role and condition see it.
 */
export async function issueParticipantToken(
	request: ParticipantTokenRequest
): Promise<ParticipantTokenResult> {
	const { db } = request;
	const participant = await findLinkParticipant(db, request.slug, request.cookieToken);
	if (!participant) return { ok: false, reason: 'no_participant' };
	if (!request.config) return { ok: false, reason: 'not_configured' };
	if (participant.status !== 'in_room' || !participant.roomId || participant.outcome !== null) {
		return { ok: false, reason: 'not_in_room' };
	}
	const result = await readCurrentStage(db, participant.roomId);
	if (!result.ok || result.current.finished) return { ok: false, reason: 'not_in_room' };
	const { stage } = result.current;
	if (stage?.type !== 'conversation') return { ok: false, reason: 'not_on_conversation' };
	const member = { role: participant.role, condition: participant.condition };
	return {
		ok: true,
		token: await mintParticipantToken({
			config: request.config,
			roomId: participant.roomId,
			participantId: participant.id,
			stage: resolveStageContent(stage, member),
			roleId: participant.role,
			now: request.now
		})
	};
}

export type ObserverTokenRequest = {
	db: Database;
	config: LiveKitSettings | null;
	user: Pick<SessionUser, 'id' | 'role'>;
	roomId: string;
	now: number;
};

export type ObserverTokenResult =
	{ ok: true; token: LiveKitToken } | { ok: false; reason: 'not_configured' | 'room_not_found' };

/**
 * A hidden observer's token for a study room, whatever stage it is on (an observer may join
 * before the conversation starts). Any access to the study will do, view included: observing
 * changes nothing. A missing room, a sandbox room and one of a study the user cannot see are
 * all `room_not_found`, so ids of others' rooms are not confirmed.
 */
export async function issueObserverToken(
	request: ObserverTokenRequest
): Promise<ObserverTokenResult> {
	if (!request.config) return { ok: false, reason: 'not_configured' };
	if (request.roomId.length > MAX_ROOM_ID_LENGTH) return { ok: false, reason: 'room_not_found' };
	const result = await readCurrentStage(request.db, request.roomId);
	if (!result.ok) return { ok: false, reason: 'room_not_found' };
	const study = await loadStudyForUser(request.db, request.user, result.current.studyId);
	if (!study) return { ok: false, reason: 'room_not_found' };
	return {
		ok: true,
		token: await mintObserverToken({
			config: request.config,
			roomId: request.roomId,
			userId: request.user.id,
			now: request.now
		})
	};
}
