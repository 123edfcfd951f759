/**
 * Chat and shared goals in a study room: members talk on `chat` and `timer` stages, and on a
 * timer stage with a goal prompt each member keeps one goal line the whole group sees. Neither
 * is redacted: they are meant for everyone in the room.
 */
import type { EventDraft } from './draft';
import { currentStage, type StudyRoomState } from './state';

/** Messages kept in the room state (and so in every view); older ones stay in the log. */
export const MAX_RECENT_CHAT = 200;
/** Timer stages have no message limit of their own. */
export const TIMER_CHAT_MAX_LENGTH = 1000;
/** A goal line is one sentence or two; the designer's prompt is held to the same bound. */
export const MAX_GOAL_LENGTH = 300;

export type ChatMessage = {
	id: number;
	stageId: string;
	memberId: string;
	text: string;
	at: number;
};
export type SharedGoal = { text: string; at: number };

type Rejection = { reason: string; message: string };

/** Emits `chat.sent` for `text` from `memberId`, or says why the current stage takes no chat. */
export function decideChat(
	draft: EventDraft,
	memberId: string,
	stageId: string,
	text: string
): Rejection | null {
	const stage = currentStage(draft.state);
	if (!stage || stage.id !== stageId) {
		return { reason: 'wrong_stage', message: 'The room is on another stage now.' };
	}
	if (stage.type !== 'chat' && stage.type !== 'timer') {
		return { reason: 'chat_not_allowed', message: 'This stage has no chat.' };
	}
	const limit = stage.type === 'chat' ? stage.content.maxMessageLength : TIMER_CHAT_MAX_LENGTH;
	const trimmed = text.trim();
	if (trimmed.length === 0 || trimmed.length > limit) {
		return { reason: 'invalid_length', message: `A message has 1 to ${limit} characters.` };
	}
	draft.emit({
		name: 'chat.sent',
		payload: { id: nextChatId(draft.state), stageId, memberId, text: trimmed, at: draft.now }
	});
	return null;
}

/** Emits `goal.set` (latest wins), or says why this stage has no shared goal. */
export function decideGoal(
	draft: EventDraft,
	memberId: string,
	stageId: string,
	text: string
): Rejection | null {
	const stage = currentStage(draft.state);
	if (!stage || stage.id !== stageId) {
		return { reason: 'wrong_stage', message: 'The room is on another stage now.' };
	}
	if (stage.type !== 'timer' || stage.content.goalPrompt.trim() === '') {
		return { reason: 'goal_not_allowed', message: 'This stage has no shared goal.' };
	}
	const trimmed = text.trim();
	if (trimmed.length > MAX_GOAL_LENGTH) {
		return {
			reason: 'invalid_length',
			message: `A goal has at most ${MAX_GOAL_LENGTH} characters.`
		};
	}
	if ((draft.state.goals?.[stageId]?.[memberId]?.text ?? '') === trimmed) {
		return { reason: 'no_change', message: 'The goal is unchanged.' };
	}
	draft.emit({ name: 'goal.set', payload: { stageId, memberId, text: trimmed, at: draft.now } });
	return null;
}

/** Message ids count up per room, so the page can key its list without trusting times. */
function nextChatId(state: StudyRoomState): number {
	return (state.chatCount ?? 0) + 1;
}

/** Adds a message, keeping only the most recent {@link MAX_RECENT_CHAT}. */
export function appendChat(state: StudyRoomState, message: ChatMessage): StudyRoomState {
	const chat = [...(state.chat ?? []), message].slice(-MAX_RECENT_CHAT);
	return { ...state, chat, chatCount: Math.max(state.chatCount ?? 0, message.id) };
}
