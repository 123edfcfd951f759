/**
 * What one participant's page needs from the room: their stage (content resolved for their
 * role and condition), the clock, the pause, how many are done, and at the end their outcome
 * with its completion code and redirect. Other members' answers never leave the server; only a
 * group choice shown live reveals who picked what.
 */
import type { PlaybackSchedule } from '../../sync/schedule';
import { completionUrlFor, resolveStageContent, type Outcome, type Stage } from '../../study';
import { canControlPlayback } from './playback';
import { currentStage, listActiveMembers, type StudyRoomState } from './state';
import type { TimerPosition } from './timer';

export type MemberView = {
	stage: Stage | null;
	stageIndex: number;
	stageCount: number;
	stageStartedAt: number;
	/** Absolute server ms; the page shows it with the measured clock offset. */
	deadline: number | null;
	timerBlock: TimerPosition | null;
	paused: null | {
		since: number;
		resumeDeadline: number | null;
		reason: 'experimenter' | 'dropout';
		missingCount: number;
	};
	/** Present members still in, and how many of them submitted the current stage. */
	progress: { submitted: number; of: number };
	youSubmitted: boolean;
	/** Your own pick on a group choice stage. */
	yourChoice: string | null;
	/** Everyone's picks (member id → option) when the stage shows choices live; else null. */
	choices: Record<string, string> | null;
	outcome: Outcome | null;
	completion: null | { code: string | null; url: string | null };
	finished: boolean;
	/** The current stage's recent chat messages, oldest first (everyone sees every message). */
	chat?: ViewChatMessage[];
	/** The current stage's shared goal lines, in member join order; empty when none. */
	goals?: ViewGoal[];
	/** On a video stage: the schedule to steer to (null until the start), who is buffered. */
	playback?: ViewPlayback | null;
	/** The experimenter's latest messages to the room or to this member, oldest first. */
	notices?: ViewNotice[];
};

/** A message from the experimenter as a member sees it; `toYou`: sent to this member only. */
export type ViewNotice = { id: number; text: string; at: number; toYou: boolean };

/** Messages from the experimenter a member's view carries (the newest). */
export const MAX_VIEW_NOTICES = 3;

export type ViewPlayback = {
	schedule: PlaybackSchedule | null;
	/** Present members still in who reported the media buffered, and how many those are. */
	buffered: number;
	of: number;
	youBuffered: boolean;
	/** Server ms at which the start goes ahead without everyone. */
	bufferDeadline: number;
	/** This member may play, pause and seek (a control role of a watch party). */
	canControl: boolean;
};

/** A chat message as a member sees it: `author` is a stable per-room label, `mine` their own. */
export type ViewChatMessage = {
	id: number;
	author: string;
	mine: boolean;
	text: string;
	at: number;
};
export type ViewGoal = { author: string; mine: boolean; text: string; at: number };

/** "Member 2": the position in the room, which says nothing about the participant. */
function labelMembers(state: StudyRoomState): Map<string, string> {
	return new Map(Object.keys(state.members).map((id, index) => [id, `Member ${index + 1}`]));
}

/** The current video stage's playback as member `memberId` sees it; null on other stages. */
function viewPlayback(state: StudyRoomState, memberId: string): ViewPlayback | null {
	const playback = state.playback;
	if (!playback) return null;
	const waitingFor = listActiveMembers(state).filter((m) => m.present);
	return {
		schedule: playback.schedule,
		buffered: waitingFor.filter((m) => playback.buffered.includes(m.id)).length,
		of: waitingFor.length,
		youBuffered: playback.buffered.includes(memberId),
		bufferDeadline: playback.bufferDeadline,
		canControl: canControlPlayback(state, { id: memberId, role: 'participant' })
	};
}

/** The room as member `memberId` sees it, or null when they are not a member. */
export function memberView(state: StudyRoomState, memberId: string): MemberView | null {
	const member = state.members[memberId];
	if (!member) return null;
	const stage = currentStage(state);
	const resolved = stage ? resolveStageContent(stage, member) : null;
	const waitingFor = listActiveMembers(state).filter((m) => m.present);
	const stageChoices = stage ? (state.choices[stage.id] ?? {}) : {};
	const showChoices =
		resolved?.type === 'group_choice' && resolved.content.showChoicesLive
			? { ...stageChoices }
			: null;
	const outcomeSettings = member.outcome
		? state.definition.settings.outcomes[member.outcome]
		: null;
	const code = outcomeSettings?.completionCode.trim() ?? '';
	const labels = labelMembers(state);
	const author = (id: string) => ({
		author: labels.get(id) ?? 'A former member',
		mine: id === memberId
	});
	const stageGoals = stage ? (state.goals?.[stage.id] ?? {}) : {};
	return {
		stage: resolved,
		stageIndex: state.stageIndex,
		stageCount: state.definition.stages.length,
		stageStartedAt: state.stageStartedAt,
		deadline: state.deadline,
		timerBlock: state.timerBlock,
		paused: state.paused && {
			since: state.paused.since,
			resumeDeadline: state.paused.resumeDeadline,
			reason: state.paused.reason,
			missingCount: state.paused.missing.length
		},
		progress: {
			submitted: stage ? waitingFor.filter((m) => m.submitted.includes(stage.id)).length : 0,
			of: waitingFor.length
		},
		youSubmitted: stage ? member.submitted.includes(stage.id) : false,
		yourChoice: stage ? (stageChoices[member.id] ?? null) : null,
		choices: showChoices,
		outcome: member.outcome,
		completion: outcomeSettings && {
			code: code === '' ? null : code,
			url: completionUrlFor(outcomeSettings)
		},
		finished: state.finished !== null,
		chat: (state.chat ?? [])
			.filter((message) => message.stageId === stage?.id)
			.map((message) => ({
				id: message.id,
				...author(message.memberId),
				text: message.text,
				at: message.at
			})),
		goals: Object.keys(state.members)
			.filter((id) => stageGoals[id] && stageGoals[id].text !== '')
			.map((id) => ({ ...author(id), text: stageGoals[id]!.text, at: stageGoals[id]!.at })),
		playback: viewPlayback(state, member.id),
		notices: (state.messages ?? [])
			.filter((message) => message.memberId === null || message.memberId === member.id)
			.slice(-MAX_VIEW_NOTICES)
			.map((message) => ({
				id: message.id,
				text: message.text,
				at: message.at,
				toYou: message.memberId !== null
			}))
	};
}
