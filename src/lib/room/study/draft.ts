import { applyStudy } from './apply';
import type { StudyEvent } from './events';
import { listIncompleteBefore } from './incomplete';
import { listPlaybackFollowUps } from './playback';
import type { StudyRoomState } from './state';

/**
 * The events one command produces, folded as they are emitted so that each later rule sees the
 * room as the earlier events left it (a dropout shrinks the barrier before the barrier is checked).
 */
export class EventDraft {
	#state: StudyRoomState;
	readonly events: StudyEvent[] = [];
	readonly now: number;

	constructor(state: StudyRoomState, now: number) {
		this.#state = state;
		this.now = now;
	}

	/** The room with every event emitted so far folded in. */
	get state(): StudyRoomState {
		return this.#state;
	}

	/**
	 * Records an event and folds it into the draft state. A stage ending for someone who did not
	 * answer it is recorded first, and what a pause or resume does to a playing video right
	 * after, here, so no rule that moves the room on can forget either.
	 */
	emit(event: StudyEvent): void {
		for (const incomplete of listIncompleteBefore(this.#state, event)) this.#record(incomplete);
		this.#record(event);
		// The room's pause and resume carry the video with them (playback.ts).
		for (const followUp of listPlaybackFollowUps(this.#state, event, this.now)) {
			this.#record(followUp);
		}
	}

	#record(event: StudyEvent): void {
		this.events.push(event);
		this.#state = applyStudy(this.#state, event);
	}
}
