import { eq } from 'drizzle-orm';
import {
	listPreRoomStages,
	needsHeartRateSensor,
	resolveStageContent,
	type Outcome,
	type SessionMode,
	type Stage,
	type StudyDefinition
} from '$lib/study';
import type { Database } from '../db';
import { openRooms, stageResponses, type Participant } from '../db/schema';
import { describeWaitingRoom, nextCohortStart, type WaitingRoomView } from '../matching';
import { viewStudyEntry } from './identity';
import type { PublicStudy, StudyEntry } from './study-link';
import { loadVersionDefinition } from './versions';

/**
 * Where a participant is, as the study link shows it. Always derived from the database, so a
 * refresh, a reopened link or a second tab shows the same step, never an earlier one.
 */
export type JourneyStep =
	| { kind: 'stage'; stage: Stage; index: number; count: number }
	| {
			kind: 'ready';
			mode: SessionMode;
			/** The study has a conversation stage: check camera and microphone. */
			needsCamera: boolean;
			/** The study plays videos: say that they load in the room. */
			needsMedia: boolean;
			/** A group metric needs heart data: offer to connect a Bluetooth sensor. */
			needsSensor: boolean;
			/** Open mode: the participant may start a room of their own. */
			canCreateRoom: boolean;
	  }
	| {
			kind: 'waiting';
			view: WaitingRoomView | null;
			/** Epoch ms when the waiting room gives up on forming a group (matched mode). */
			lobbyTimeoutAt: number | null;
			/** Epoch ms of the participant's cohort start (scheduled mode). */
			cohortStartsAt: number | null;
	  }
	| {
			kind: 'in_room';
			roomId: string | null;
			role: string | null;
			roleName: string | null;
			/** Open mode: the room's invite code, to share with others. */
			inviteCode: string | null;
			needsSensor: boolean;
	  }
	| { kind: 'outcome'; outcome: Outcome; completionCode: string; redirectUrl: string };

export type JourneyView = { study: PublicStudy; step: JourneyStep | null };

/** The participant-facing face of a study entry. */
function toPublicStudy(entry: StudyEntry): PublicStudy {
	return {
		status: entry.status,
		version: entry.version,
		participantTitle: entry.settings.participantTitle.trim() || entry.settings.title,
		language: entry.settings.language,
		texts: entry.settings.texts
	};
}

/** Ids of the stages the participant has a stored response for. */
export async function listAnsweredStageIds(
	db: Database,
	participantId: string
): Promise<Set<string>> {
	const rows = await db
		.select({ stageId: stageResponses.stageId })
		.from(stageResponses)
		.where(eq(stageResponses.participantId, participantId));
	return new Set(rows.map((row) => row.stageId));
}

/** The first pre-room stage without a response, with its index; null when all are done. */
export function findCurrentPreRoomStage(
	definition: StudyDefinition,
	answered: ReadonlySet<string>
): { stage: Stage; index: number; count: number } | null {
	const stages = listPreRoomStages(definition);
	const index = stages.findIndex((stage) => !answered.has(stage.id));
	if (index === -1) return null;
	// Before the room nobody has a role or condition yet: the stage's base content.
	const stage = resolveStageContent(stages[index]!, { role: null, condition: null });
	return { stage, index, count: stages.length };
}

/**
 * The step a participant is at now. `left` (closed the tab while waiting) shows the waiting
 * room again: its first heartbeat queues them anew (see `beatWaitingRoom`).
 */
export async function describeJourneyStep(
	db: Database,
	participant: Participant,
	now: Date
): Promise<JourneyStep> {
	const definition = await loadVersionDefinition(db, participant.studyId, participant.version);
	if (!definition) throw new Error(`participant ${participant.id} has no study version`);
	const settings = definition.settings;
	if (participant.outcome) {
		const config = settings.outcomes[participant.outcome];
		return {
			kind: 'outcome',
			outcome: participant.outcome,
			completionCode: config.completionCode,
			redirectUrl: config.redirectUrl
		};
	}
	if (participant.status === 'in_room') {
		const role = settings.roles.find((r) => r.id === participant.role);
		const [open] = participant.roomId
			? await db
					.select({ code: openRooms.code })
					.from(openRooms)
					.where(eq(openRooms.roomId, participant.roomId))
					.limit(1)
			: [];
		return {
			kind: 'in_room',
			roomId: participant.roomId,
			role: participant.role,
			roleName: role?.name ?? null,
			inviteCode: open?.code ?? null,
			needsSensor: needsHeartRateSensor(definition)
		};
	}
	const session = settings.session;
	if (participant.status === 'waiting' || participant.status === 'left') {
		const since = (participant.waitingSince ?? now).getTime();
		return {
			kind: 'waiting',
			view: await describeWaitingRoom(db, participant.studyId, participant.version, now),
			lobbyTimeoutAt:
				session.mode === 'matched' ? since + session.lobbyTimeoutSeconds * 1000 : null,
			cohortStartsAt: session.mode === 'scheduled' ? nextCohortStart(session, since) : null
		};
	}
	const current = findCurrentPreRoomStage(
		definition,
		await listAnsweredStageIds(db, participant.id)
	);
	if (current) return { kind: 'stage', ...current };
	return {
		kind: 'ready',
		mode: session.mode,
		needsCamera: definition.stages.some((stage) => stage.type === 'conversation'),
		needsMedia: definition.stages.some((stage) => stage.type === 'video'),
		needsSensor: needsHeartRateSensor(definition),
		canCreateRoom: session.mode === 'open' && session.participantsCreateRooms
	};
}

/**
 * What `/s/<slug>` shows: the study and, for a participant (by cookie), their current step.
 * Read-only: never creates a participant, so link previews cost nothing. Null: no such study.
 */
export async function viewJourney(
	db: Database,
	slug: string,
	token: string | null,
	now: Date
): Promise<JourneyView | null> {
	const entry = await viewStudyEntry(db, slug, token);
	if (!entry || entry.study.status === 'draft') return null;
	const step = entry.participant ? await describeJourneyStep(db, entry.participant, now) : null;
	return { study: toPublicStudy(entry.study), step };
}

/** The participant behind a study link's cookie token, or null (unknown study or token). */
export async function findLinkParticipant(
	db: Database,
	slug: string,
	token: string | null
): Promise<Participant | null> {
	if (!token) return null;
	const entry = await viewStudyEntry(db, slug, token);
	return entry?.participant ?? null;
}
