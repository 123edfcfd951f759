/**
 * Folding events into a study room's state: the only place the state changes. Pure and
 * immutable (every change copies the parts it touches), so a decided-but-uncommitted scratch
 * state never leaks into the live one.
 */
import { appendChat } from './chat';
import type { StudyEvent } from './events';
import { createPlayback } from './playback';
import {
	createStudyMember,
	MAX_RECENT_ROOM_MESSAGES,
	type StudyMember,
	type StudyRoomState
} from './state';
import { firstTimerBlock } from './timer';

function updateMember(
	state: StudyRoomState,
	memberId: string,
	change: (member: StudyMember) => StudyMember
): StudyRoomState['members'] {
	const member = state.members[memberId];
	// An event about an unknown member can only come from a bug; ignoring it keeps replay total.
	if (!member) return state.members;
	return { ...state.members, [memberId]: change(member) };
}

function markSubmitted(member: StudyMember, stageId: string): StudyMember {
	return member.submitted.includes(stageId)
		? member
		: { ...member, submitted: [...member.submitted, stageId] };
}

/** Folds one study event into the state. Pure; events must arrive in log order. */
export function applyStudy(state: StudyRoomState, event: StudyEvent): StudyRoomState {
	switch (event.name) {
		case 'member.joined': {
			const { at, ...member } = event.payload;
			if (state.members[member.id]) return state;
			return {
				...state,
				members: { ...state.members, [member.id]: createStudyMember(member, at) }
			};
		}
		case 'member.connection': {
			const { memberId, connected, at, absentAt } = event.payload;
			return {
				...state,
				members: updateMember(state, memberId, (m) => ({
					...m,
					connected,
					absentAt: connected ? null : (absentAt ?? null),
					// A repeated disconnect (giving a deadline) keeps the first one's time.
					disconnectedAt: connected ? null : (m.disconnectedAt ?? at ?? null)
				}))
			};
		}
		case 'member.presence': {
			const { memberId, present, at } = event.payload;
			return {
				...state,
				members: updateMember(state, memberId, (m) => ({
					...m,
					present,
					leftAt: present ? null : at,
					absentAt: null
				}))
			};
		}
		case 'stage.submitted': {
			const { stageId, memberId, response, at } = event.payload;
			return {
				...state,
				members: updateMember(state, memberId, (m) => markSubmitted(m, stageId)),
				submissions: {
					...state.submissions,
					[stageId]: { ...state.submissions[stageId], [memberId]: { response, at } }
				}
			};
		}
		case 'group_choice.picked': {
			const { stageId, memberId, option, at } = event.payload;
			return {
				...state,
				members: updateMember(state, memberId, (m) => markSubmitted(m, stageId)),
				// The latest pick is also the member's response, so exports need not read choices.
				submissions: {
					...state.submissions,
					[stageId]: { ...state.submissions[stageId], [memberId]: { response: { option }, at } }
				},
				choices: { ...state.choices, [stageId]: { ...state.choices[stageId], [memberId]: option } }
			};
		}
		case 'stage.advanced': {
			const { toIndex, at, deadline } = event.payload;
			const stage = state.definition.stages[toIndex];
			return {
				...state,
				stageIndex: toIndex,
				stageStartedAt: at,
				deadline,
				timerBlock: stage && deadline !== null ? firstTimerBlock(stage) : null,
				playback: createPlayback(stage, at)
			};
		}
		case 'media.buffered': {
			const playback = state.playback;
			if (!playback || playback.stageId !== event.payload.stageId) return state;
			return {
				...state,
				playback: { ...playback, buffered: [...playback.buffered, event.payload.memberId] }
			};
		}
		case 'playback.scheduled': {
			const playback = state.playback;
			const { stageId, schedule, cause } = event.payload;
			if (!playback || playback.stageId !== stageId) return state;
			// Only the room's own pause is lifted by its resume.
			const pausedByRoom =
				cause === 'room_paused' ? true : cause === 'room_resumed' ? false : playback.pausedByRoom;
			return { ...state, playback: { ...playback, schedule: { ...schedule }, pausedByRoom } };
		}
		case 'timer.block_started': {
			const { round, index } = event.payload;
			return { ...state, timerBlock: { round, index } };
		}
		case 'member.outcome': {
			const { memberId, outcome } = event.payload;
			// Exactly one outcome per member: a second one is a decide bug and is not folded in.
			return {
				...state,
				members: updateMember(state, memberId, (m) => (m.outcome ? m : { ...m, outcome }))
			};
		}
		case 'stage.incomplete':
		case 'av.recorded':
		case 'member.removed':
			// Records for the data; the room itself does not change.
			return state;
		case 'room.paused':
			return { ...state, paused: { ...event.payload, missing: [...event.payload.missing] } };
		case 'room.resumed': {
			const { pausedMs } = event.payload;
			return {
				...state,
				paused: null,
				deadline: state.deadline === null ? null : state.deadline + pausedMs
			};
		}
		case 'room.finished': {
			const { at, outcome } = event.payload;
			return { ...state, finished: { at, outcome }, deadline: null, paused: null };
		}
		case 'chat.sent':
			return appendChat(state, event.payload);
		case 'room.message': {
			const messages = [...(state.messages ?? []), { ...event.payload }];
			return {
				...state,
				messages: messages.slice(-MAX_RECENT_ROOM_MESSAGES),
				messageCount: Math.max(state.messageCount ?? 0, event.payload.id)
			};
		}
		case 'goal.set': {
			const { stageId, memberId, text, at } = event.payload;
			const goals = state.goals ?? {};
			return {
				...state,
				goals: { ...goals, [stageId]: { ...goals[stageId], [memberId]: { text, at } } }
			};
		}
	}
}

/** Folds events in order. */
export function applyStudyEvents(
	state: StudyRoomState,
	events: readonly StudyEvent[]
): StudyRoomState {
	return events.reduce(applyStudy, state);
}
