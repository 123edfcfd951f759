import type { Stage, StudyDefinition } from './schema';

/**
 * Whether a stage can be done alone at one's own pace: consent always; instructions and
 * questionnaires when they move on once submitted (a timed one is a group phase). A study's
 * leading run of such stages runs individually before the waiting room, so nobody waits for a
 * group only to decline consent; the room starts at the first stage after them.
 */
function isIndividualStage(stage: Stage): boolean {
	if (stage.type === 'consent') return true;
	return (
		(stage.type === 'instructions' || stage.type === 'questionnaire') &&
		stage.advance === 'all_submitted'
	);
}

/** Index of the first stage run in the group room (the stages before it are pre-room). */
export function findRoomStartIndex(definition: StudyDefinition): number {
	const index = definition.stages.findIndex((stage) => !isIndividualStage(stage));
	// A study made only of individual stages still ends in a room of one stage: its last.
	return index === -1 ? Math.max(0, definition.stages.length - 1) : index;
}

/** The stages a participant goes through alone before the waiting room. */
export function listPreRoomStages(definition: StudyDefinition): Stage[] {
	return definition.stages.slice(0, findRoomStartIndex(definition));
}

/**
 * Whether participants need a heart-rate sensor: a `group_metric` stage computes coherence
 * (from R-R intervals) or shows an R-R signal. Such studies offer a sensor connection before
 * the waiting room and in the room.
 */
export function needsHeartRateSensor(definition: StudyDefinition): boolean {
	return definition.stages.some(
		(stage) =>
			stage.type === 'group_metric' &&
			(stage.content.metric === 'coherence' || /^(signal\.)?rr$/.test(stage.content.signal))
	);
}
