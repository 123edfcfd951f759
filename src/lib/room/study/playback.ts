/**
 * The synchronized video stage's playback, held by the room (issue 6): no participant is the
 * host. Entering a video stage the room waits for every member to report the media buffered
 * (or for the stage's buffer timeout), then schedules the start at a server time a little ahead;
 * pause, play and seek by the experimenter (or a control role) re-anchor the schedule, and so
 * do the room's own pauses. Clients steer their players to the schedule (`$lib/sync`).
 */
import { pauseAt, playAt, seekTo, type PlaybackSchedule } from '../../sync/schedule';
import type { Stage } from '../../study';
import type { EventDraft } from './draft';
import type { StudyEvent } from './events';
import { currentStage, listActiveMembers, type StudyRoomState } from './state';

/**
 * How far ahead of now a start (or a play after a pause) is scheduled: the event reaches every
 * member within a round trip, and each player is already paused at the start frame, so a
 * second covers slow links without a noticeable wait.
 */
export const START_LEAD_MS = 1_000;

/** The current video stage's playback. */
export type StudyPlayback = {
	stageId: string;
	mediaId: string;
	/** Null until the start is scheduled. */
	schedule: PlaybackSchedule | null;
	/** Members who reported the media buffered enough to play through the start. */
	buffered: string[];
	/** The start waits for everyone until then (server ms), then goes ahead with who is ready. */
	bufferDeadline: number;
	/** The room's pause (a dropout, the experimenter) paused the video: its resume plays it. */
	pausedByRoom: boolean;
};

export type PlaybackCause =
	'all_buffered' | 'buffer_timeout' | 'control' | 'room_paused' | 'room_resumed';

/** A member's or the experimenter's control of a running video. */
export type PlaybackControl =
	{ action: 'play' } | { action: 'pause' } | { action: 'seek'; mediaTime: number };

/** The playback a stage starts with when the room enters it at `at`; null: not a video. */
export function createPlayback(stage: Stage | undefined, at: number): StudyPlayback | null {
	if (stage?.type !== 'video' || !stage.content.mediaId) return null;
	return {
		stageId: stage.id,
		mediaId: stage.content.mediaId,
		schedule: null,
		buffered: [],
		bufferDeadline: at + stage.content.bufferTimeoutSeconds * 1000,
		pausedByRoom: false
	};
}

/** The schedule a video starts from: at the beginning, not yet playing. */
function initialSchedule(playback: StudyPlayback, at: number): PlaybackSchedule {
	return {
		mediaId: playback.mediaId,
		playing: false,
		anchorMediaTime: 0,
		anchorServerTime: at,
		rate: 1
	};
}

function emitSchedule(
	draft: EventDraft,
	playback: StudyPlayback,
	schedule: PlaybackSchedule,
	cause: PlaybackCause,
	by: string | null
): void {
	draft.emit({
		name: 'playback.scheduled',
		payload: { stageId: playback.stageId, schedule, cause, by, at: draft.now }
	});
}

/**
 * Starts the video once everyone present is buffered, or at the buffer deadline with whoever is.
 * Nothing while the room is paused: its resume comes back here through the next tick.
 */
export function startPlaybackWhenReady(draft: EventDraft): void {
	const { state, now } = draft;
	const playback = state.playback;
	if (!playback || playback.schedule || state.paused || state.finished) return;
	const waitingFor = listActiveMembers(state).filter((member) => member.present);
	const allBuffered =
		waitingFor.length > 0 && waitingFor.every((member) => playback.buffered.includes(member.id));
	if (!allBuffered && now < playback.bufferDeadline) return;
	const start = playAt(initialSchedule(playback, now), now + START_LEAD_MS);
	emitSchedule(draft, playback, start, allBuffered ? 'all_buffered' : 'buffer_timeout', null);
}

/** Records that a member has the media buffered; starts the video when that was the last one. */
export function decideBuffered(
	draft: EventDraft,
	memberId: string,
	stageId: string
): { reason: string; message: string } | null {
	const playback = draft.state.playback;
	if (!playback || playback.stageId !== stageId) {
		return { reason: 'wrong_stage', message: 'The room is not on this video stage.' };
	}
	if (playback.buffered.includes(memberId)) {
		return { reason: 'no_change', message: 'Already reported buffered.' };
	}
	draft.emit({ name: 'media.buffered', payload: { stageId, memberId, at: draft.now } });
	startPlaybackWhenReady(draft);
	return null;
}

/**
 * Whether `actor` may pause, play and seek this stage's video: the experimenter always, a member
 * whose role the stage lists in `controlRoles` (watch parties).
 */
export function canControlPlayback(
	state: StudyRoomState,
	actor: { id: string; role: string }
): boolean {
	if (actor.role === 'experimenter') return true;
	const stage = currentStage(state);
	const role = state.members[actor.id]?.role;
	return (
		stage?.type === 'video' &&
		role !== null &&
		role !== undefined &&
		stage.content.controlRoles.includes(role) &&
		state.members[actor.id]?.outcome === null
	);
}

/** Re-anchors the running schedule for a pause, play or seek. */
export function decideControl(
	draft: EventDraft,
	by: string,
	stageId: string,
	control: PlaybackControl
): { reason: string; message: string } | null {
	const { state, now } = draft;
	const playback = state.playback;
	if (!playback || playback.stageId !== stageId) {
		return { reason: 'wrong_stage', message: 'The room is not on this video stage.' };
	}
	if (!playback.schedule) return { reason: 'not_started', message: 'The video has not started.' };
	if (state.paused) return { reason: 'paused', message: 'The room is paused.' };
	const schedule = playback.schedule;
	let next: PlaybackSchedule;
	switch (control.action) {
		case 'play':
			if (schedule.playing) return { reason: 'no_change', message: 'The video is playing.' };
			next = playAt(schedule, now + START_LEAD_MS);
			break;
		case 'pause':
			if (!schedule.playing) return { reason: 'no_change', message: 'The video is paused.' };
			next = pauseAt(schedule, now);
			break;
		case 'seek':
			// Playing: the jump takes effect a moment ahead, so every member seeks to the same frame.
			next = schedule.playing
				? seekTo(schedule, control.mediaTime, now + START_LEAD_MS)
				: seekTo(schedule, control.mediaTime, now);
			break;
	}
	emitSchedule(draft, playback, next, 'control', by);
	return null;
}

/**
 * What the room's own pause and resume do to a playing video, recorded right after them: a
 * pause freezes it where it is; the resume plays it again (a moment ahead) if the pause stopped
 * it. A video the experimenter paused stays paused.
 */
export function listPlaybackFollowUps(
	state: StudyRoomState,
	event: StudyEvent,
	now: number
): StudyEvent[] {
	const playback = state.playback;
	const schedule = playback?.schedule;
	if (!playback || !schedule) return [];
	const scheduled = (next: PlaybackSchedule, cause: PlaybackCause): StudyEvent[] => [
		{
			name: 'playback.scheduled',
			payload: { stageId: playback.stageId, schedule: next, cause, by: null, at: now }
		}
	];
	if (event.name === 'room.paused' && schedule.playing) {
		return scheduled(pauseAt(schedule, now), 'room_paused');
	}
	if (event.name === 'room.resumed' && playback.pausedByRoom && !schedule.playing) {
		return scheduled(playAt(schedule, now + START_LEAD_MS), 'room_resumed');
	}
	return [];
}

/** When a tick is due for the playback: the buffer deadline while the start waits. */
export function nextPlaybackWakeup(state: StudyRoomState): number | null {
	const playback = state.playback;
	if (!playback || playback.schedule || state.paused) return null;
	return playback.bufferDeadline;
}
