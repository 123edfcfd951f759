/**
 * Stage timing: how long a stage lasts, when its deadline is, and which block of a repeating
 * timer (focus / break rounds) runs at a given moment. Pure arithmetic on server milliseconds.
 */
import type { Stage, StageOf } from '../../study';
import type { StudyRoomState } from './state';

/** Where a timer stage is: `round` of `repeat`, `index` into its blocks (both from 0). */
export type TimerPosition = { round: number; index: number };

type TimerBlock = StageOf<'timer'>['content']['blocks'][number];

export type TimerBlockAt = TimerPosition & {
	block: TimerBlock;
	/** Milliseconds of the block still to run at the time asked about. */
	remainingMs: number;
};

/**
 * How long a stage runs, in ms, or null for no time limit. A timer stage lasts its blocks ×
 * repeat (the designer's `durationSeconds` is only a summary of that), every other stage its
 * `durationSeconds`. The room shares one clock, so a timer stage's blocks come from its base
 * content, never a role's variant.
 */
export function stageDurationMs(stage: Stage): number | null {
	if (stage.type === 'timer' && stage.content.blocks.length > 0) {
		const round = stage.content.blocks.reduce((sum, block) => sum + block.seconds, 0);
		return round * stage.content.repeat * 1000;
	}
	return stage.durationSeconds === null ? null : stage.durationSeconds * 1000;
}

/**
 * The absolute deadline of a stage entered at `now`, or null when no timer acts on it: only the
 * `timer` and `first` rules advance on time, and a `wait` stage always has its timeout. A
 * duration on an `all_submitted` or `experimenter` stage is informational and sets none.
 */
export function deadlineForStage(stage: Stage, now: number): number | null {
	if (stage.type === 'end') return null;
	const timed = stage.type === 'wait' || stage.advance === 'timer' || stage.advance === 'first';
	const duration = stageDurationMs(stage);
	return timed && duration !== null ? now + duration : null;
}

/** The position a timer stage starts in; null for other stages. */
export function firstTimerBlock(stage: Stage): TimerPosition | null {
	return stage.type === 'timer' && stage.content.blocks.length > 0 ? { round: 0, index: 0 } : null;
}

/** The block running `elapsedMs` into a timer stage (the last block once time is up). */
export function timerBlockAt(stage: Stage, elapsedMs: number): TimerBlockAt | null {
	if (stage.type !== 'timer' || stage.content.blocks.length === 0) return null;
	const { blocks, repeat } = stage.content;
	let start = 0;
	for (let round = 0; round < repeat; round++) {
		for (let index = 0; index < blocks.length; index++) {
			const block = blocks[index]!;
			const end = start + block.seconds * 1000;
			const last = round === repeat - 1 && index === blocks.length - 1;
			if (elapsedMs < end || last) {
				return { round, index, block, remainingMs: Math.max(0, end - elapsedMs) };
			}
			start = end;
		}
	}
	return null;
}

/** Ms from stage start to the end of the block at `position` (the next block's start). */
export function timerBlockEndOffset(stage: Stage, position: TimerPosition): number | null {
	if (stage.type !== 'timer' || stage.content.blocks.length === 0) return null;
	const blocks = stage.content.blocks;
	const roundMs = blocks.reduce((sum, block) => sum + block.seconds, 0) * 1000;
	const within = blocks.slice(0, position.index + 1).reduce((sum, b) => sum + b.seconds, 0) * 1000;
	return position.round * roundMs + within;
}

/**
 * Milliseconds the current stage's timer has run at `now`. Derived from the deadline, so time
 * spent paused never counts (resuming moves the deadline on by the pause).
 */
export function elapsedStageMs(state: StudyRoomState, now: number): number | null {
	const stage = state.definition.stages[state.stageIndex];
	if (!stage || state.deadline === null) return null;
	const duration = stageDurationMs(stage);
	if (duration === null) return null;
	const clock = state.paused ? state.paused.since : now;
	return Math.min(duration, Math.max(0, duration - (state.deadline - clock)));
}

/** The timer block running at `now` on the current stage, or null when it is not a running timer. */
export function currentTimerBlock(state: StudyRoomState, now: number): TimerBlockAt | null {
	const stage = state.definition.stages[state.stageIndex];
	const elapsed = elapsedStageMs(state, now);
	if (!stage || elapsed === null || state.finished) return null;
	return timerBlockAt(stage, elapsed);
}
