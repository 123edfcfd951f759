/**
 * The study room as a pure state machine, shared by server and browser: `decideStudy` turns a
 * command into events or a rejection, `applyStudy` folds events, `nextWakeup` says when a tick
 * is due, `memberView` is one participant's slice. No clock, no timers, no I/O.
 */
export * from './state';
export * from './commands';
export * from './events';
export * from './decide';
export * from './apply';
export * from './deadline';
export * from './view';
export { MAX_GOAL_LENGTH, MAX_RECENT_CHAT, TIMER_CHAT_MAX_LENGTH } from './chat';
export type { ChatMessage, SharedGoal } from './chat';
export { currentTimerBlock, stageDurationMs, timerBlockAt, type TimerPosition } from './timer';
export {
	START_LEAD_MS,
	type PlaybackCause,
	type PlaybackControl,
	type StudyPlayback
} from './playback';
