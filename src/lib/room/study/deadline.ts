/**
 * When a replica should wake the room: it schedules one timer for `nextWakeup(state)` and sends
 * a `tick` then. Several replicas may all do so; the reducer makes only the first tick count.
 */
import { nextPlaybackWakeup } from './playback';
import { currentStage, nextAbsenceDeadline, type StudyRoomState } from './state';
import { stageDurationMs, timerBlockEndOffset } from './timer';

/**
 * The next server time (ms) at which a `tick` would change the room, or null when only a
 * command can: the pause countdown while paused (stage timers stand still), else the earliest of
 * the stage deadline, the end of the running timer block and a video's buffer deadline; and,
 * paused or not, the earliest member absence. A time in the past means "now".
 */
export function nextWakeup(state: StudyRoomState): number | null {
	if (state.finished) return null;
	let next: number | null = null;
	for (const at of [
		nextStageWakeup(state),
		nextPlaybackWakeup(state),
		nextAbsenceDeadline(state)
	]) {
		if (at !== null && (next === null || at < next)) next = at;
	}
	return next;
}

/** The stage's own deadlines: the pause countdown, the stage timer, the timer block. */
function nextStageWakeup(state: StudyRoomState): number | null {
	if (state.finished) return null;
	const stage = currentStage(state);
	// An end stage reached at formation: finish it (and log the outcomes) at once.
	if (stage?.type === 'end') return state.stageStartedAt;
	if (state.paused) return state.paused.resumeDeadline;
	if (!stage || state.deadline === null) return null;
	const duration = stageDurationMs(stage);
	const blockEnd = state.timerBlock ? timerBlockEndOffset(stage, state.timerBlock) : null;
	if (duration === null || blockEnd === null) return state.deadline;
	return Math.min(state.deadline, state.deadline - duration + blockEnd);
}
