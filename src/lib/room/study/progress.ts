/**
 * How a room moves on: entering the next stage, the end stage's outcome, barriers (everyone
 * submitted, consensus), stage deadlines and finishing. Every function emits into an EventDraft
 * and relies on it folding the events, so rules compose in any order.
 */
import type { Outcome, Stage } from '../../study';
import type { EventDraft } from './draft';
import type { AdvanceCause } from './events';
import { startPlaybackWhenReady } from './playback';
import { currentStage, listActiveMembers, type StudyRoomState } from './state';
import { deadlineForStage } from './timer';

/** Gives every member still in `outcome`, then finishes the room with it. */
export function finishRoom(draft: EventDraft, outcome: Outcome): void {
	if (draft.state.finished) return;
	for (const member of listActiveMembers(draft.state)) {
		draft.emit({
			name: 'member.outcome',
			payload: { memberId: member.id, outcome, at: draft.now }
		});
	}
	draft.emit({ name: 'room.finished', payload: { at: draft.now, outcome } });
}

/** Finishes the room when it stands on its end stage: everyone still in gets that outcome. */
function finishAtEndStage(draft: EventDraft): boolean {
	const stage = currentStage(draft.state);
	if (draft.state.finished || stage?.type !== 'end') return false;
	finishRoom(draft, stage.content.outcome);
	return true;
}

/**
 * Moves the room from its current stage to the next. Past the last stage (a draft without an
 * end stage) everyone still in completes.
 */
export function advanceStage(draft: EventDraft, cause: AdvanceCause): void {
	const state = draft.state;
	const from = currentStage(state);
	const toIndex = state.stageIndex + 1;
	const to = state.definition.stages[toIndex];
	if (!from || !to) {
		finishRoom(draft, 'completed');
		return;
	}
	draft.emit({
		name: 'stage.advanced',
		payload: {
			fromStageId: from.id,
			toStageId: to.id,
			toIndex,
			at: draft.now,
			deadline: deadlineForStage(to, draft.now),
			cause
		}
	});
	finishAtEndStage(draft);
}

/**
 * Whether everyone the current stage waits for is done: every present member without an outcome
 * submitted (for a group choice: picked, and picked the same option when consensus is required).
 * Nobody present means nobody to wait for, but also nobody to move on for: false.
 */
export function isBarrierMet(state: StudyRoomState, stage: Stage): boolean {
	const waitingFor = listActiveMembers(state).filter((member) => member.present);
	if (waitingFor.length === 0) return false;
	if (stage.type === 'group_choice') {
		const picks = waitingFor.map((member) => state.choices[stage.id]?.[member.id]);
		if (picks.some((pick) => pick === undefined)) return false;
		return !stage.content.consensusRequired || new Set(picks).size === 1;
	}
	return waitingFor.every((member) => member.submitted.includes(stage.id));
}

/**
 * Runs the rules that follow from who is in and what they submitted, after any change to
 * either: an empty room finishes with `emptyOutcome`; an end stage finishes the room; a met
 * barrier advances (`all_submitted` and `first`). A paused room waits.
 */
export function settleRoom(draft: EventDraft, emptyOutcome: Outcome): void {
	if (draft.state.finished) return;
	if (listActiveMembers(draft.state).length === 0) {
		draft.emit({ name: 'room.finished', payload: { at: draft.now, outcome: emptyOutcome } });
		return;
	}
	if (draft.state.paused || finishAtEndStage(draft)) return;
	// Someone leaving may leave only buffered members, or the buffer deadline may have passed.
	startPlaybackWhenReady(draft);
	const stage = currentStage(draft.state);
	if (!stage) {
		finishRoom(draft, 'completed');
		return;
	}
	const advancesOnBarrier = stage.advance === 'all_submitted' || stage.advance === 'first';
	if (advancesOnBarrier && isBarrierMet(draft.state, stage)) advanceStage(draft, 'all_submitted');
}

/**
 * The current stage's timer ran out. A `wait` stage's timeout gives `dropout` to every member
 * who never arrived (submitted), then the room goes on with those who did.
 */
export function fireStageDeadline(draft: EventDraft): void {
	const stage = currentStage(draft.state);
	if (stage?.type === 'wait') {
		for (const member of listActiveMembers(draft.state)) {
			if (member.submitted.includes(stage.id)) continue;
			draft.emit({
				name: 'member.outcome',
				payload: { memberId: member.id, outcome: 'dropout', at: draft.now }
			});
		}
		if (listActiveMembers(draft.state).length === 0) {
			draft.emit({ name: 'room.finished', payload: { at: draft.now, outcome: 'dropout' } });
			return;
		}
		advanceStage(draft, 'wait_timeout');
		return;
	}
	advanceStage(draft, 'timer');
}
