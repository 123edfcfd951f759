/**
 * A stage that collects data and ends for a member without their answer is marked incomplete,
 * so the data says "reached, not answered" instead of leaving a hole: the stage moved on
 * without them, or they left the room (dropout, ended by the experimenter) in the middle of it.
 */
import type { Stage } from '../../study';
import type { StudyEvent } from './events';
import { currentStage, listActiveMembers, type StudyRoomState } from './state';

/** Stages whose answer is research data; the others only say "continue". */
const DATA_STAGES: ReadonlySet<Stage['type']> = new Set([
	'consent',
	'questionnaire',
	'group_choice'
]);

export type IncompleteReason = Extract<
	StudyEvent,
	{ name: 'stage.incomplete' }
>['payload']['reason'];

/**
 * The `stage.incomplete` events that must precede `event`: for a stage advance, every member
 * still in who did not answer the stage being left; for an outcome given in the middle of a
 * stage, that member if they did not answer it. Empty for everything else.
 */
export function listIncompleteBefore(state: StudyRoomState, event: StudyEvent): StudyEvent[] {
	const stage = currentStage(state);
	if (!stage || !DATA_STAGES.has(stage.type) || state.finished) return [];
	const unanswered = (memberId: string, reason: IncompleteReason, at: number): StudyEvent[] =>
		state.members[memberId]?.submitted.includes(stage.id)
			? []
			: [{ name: 'stage.incomplete', payload: { stageId: stage.id, memberId, reason, at } }];
	switch (event.name) {
		case 'stage.advanced':
			return listActiveMembers(state).flatMap((member) =>
				unanswered(member.id, 'stage_ended', event.payload.at)
			);
		case 'member.outcome': {
			const { memberId, outcome, at } = event.payload;
			if (state.members[memberId]?.outcome !== null) return [];
			// Declining consent is the consent stage's answer, not a missing one.
			if (outcome === 'no_consent' && stage.type === 'consent') return [];
			return unanswered(memberId, outcome, at);
		}
		default:
			return [];
	}
}
