/**
 * The state of one study room: which stage the group is on, who is in, what they submitted,
 * and the deadlines that move the room on. Pure data (JSON-safe), folded from events by
 * `applyStudy`; the server and every browser hold the same value.
 */
import type { Outcome, StudyDefinition } from '../../study';
import type { ChatMessage, SharedGoal } from './chat';
import { createPlayback, type StudyPlayback } from './playback';
import { deadlineForStage, firstTimerBlock, type TimerPosition } from './timer';

/** One seat in the room: a participant or a bot, with the role and condition assigned at formation. */
export type StudyMember = {
	id: string;
	/** The study role id (settings.roles), or null when the study assigns none. */
	role: string | null;
	condition: string | null;
	isBot: boolean;
	/** A socket is open right now (flaps freely; no policy acts on it). */
	connected: boolean;
	/** In the room: false only once a disconnect outlasted the grace period. */
	present: boolean;
	/** Stage ids this member submitted (for group choices: picked at least once). */
	submitted: string[];
	joinedAt: number;
	/** When presence last went false; null while present. */
	leftAt: number | null;
	/**
	 * While disconnected: when the member counts as gone unless a socket opens again (server
	 * ms), decided by the server that saw the last socket close; a deadline like any other, so
	 * it fires wherever the room is loaded. Null or absent while connected or already gone.
	 */
	absentAt?: number | null;
	/**
	 * When the member's last socket closed (server ms), while disconnected: a dropout pause
	 * counts its countdown from here, so "wait 60 s" means 60 s after they left.
	 */
	disconnectedAt?: number | null;
	/** Set exactly once; a member with an outcome no longer counts for barriers. */
	outcome: Outcome | null;
};

export type Submission = { response: unknown; at: number };

/** Why the room stands still. */
export type PauseReason = 'experimenter' | 'dropout';

export type StudyPause = {
	since: number;
	/** When the dropout countdown runs out (server ms); null while nobody is missing. */
	resumeDeadline: number | null;
	reason: PauseReason;
	/** Members whose absence paused the room, in the order they left. */
	missing: string[];
};

/** A message from the experimenter (room.message); `memberId` null: to everyone in the room. */
export type RoomMessage = { id: number; text: string; memberId: string | null; at: number };

/** Experimenter messages kept in the state (the log keeps all). */
export const MAX_RECENT_ROOM_MESSAGES = 20;

export type StudyRoomState = {
	/** The published version this room runs; rooms keep theirs when a new version is published. */
	version: number;
	definition: StudyDefinition;
	/** Insertion order is the order members joined (views list them that way). */
	members: Record<string, StudyMember>;
	stageIndex: number;
	stageStartedAt: number;
	/** Absolute server ms at which the current stage's timer fires; null: no timer. */
	deadline: number | null;
	paused: StudyPause | null;
	/** stage id → member id → response. */
	submissions: Record<string, Record<string, Submission>>;
	/** stage id → member id → the option currently picked (changeable until the stage ends). */
	choices: Record<string, Record<string, string>>;
	/** The running block of a timer stage; null on other stages. */
	timerBlock: TimerPosition | null;
	finished: null | { at: number; outcome: Outcome };
	/**
	 * The most recent chat messages (bounded; the log keeps all). Optional, like the two fields
	 * below, because rooms formed before chat existed hold states without them.
	 */
	chat?: ChatMessage[];
	/** Chat messages ever sent in the room: the next message's id is this + 1. */
	chatCount?: number;
	/** stage id → member id → that member's shared goal line (latest wins). */
	goals?: Record<string, Record<string, SharedGoal>>;
	/** The current video stage's playback (playback.ts); null or absent elsewhere. */
	playback?: StudyPlayback | null;
	/** The most recent messages from the experimenter (bounded); absent in older rooms. */
	messages?: RoomMessage[];
	/** Messages ever sent: the next message's id is this + 1. */
	messageCount?: number;
};

export type NewStudyMember = {
	id: string;
	role: string | null;
	condition: string | null;
	isBot: boolean;
};

/**
 * A member as they enter: present (they just came from the waiting room), not yet connected.
 * `absentAt`: when they count as gone if no socket of theirs ever opens (null: never).
 */
export function createStudyMember(
	member: NewStudyMember,
	now: number,
	absentAt: number | null = null
): StudyMember {
	return {
		...member,
		connected: false,
		present: true,
		submitted: [],
		joinedAt: now,
		leftAt: null,
		absentAt,
		outcome: null
	};
}

/**
 * A room at its first stage, as formed at `now`. When the first stage is an `end` stage the
 * room is not finished yet: `nextWakeup` asks for a tick at once, and that tick finishes it, so
 * the outcomes are logged as events like everywhere else.
 */
export function createStudyRoomState(input: {
	definition: StudyDefinition;
	version: number;
	members: NewStudyMember[];
	now: number;
	/** The first stage run in the room; earlier (pre-room) stages were done alone. Default 0. */
	startStageIndex?: number;
	/**
	 * Members who never open a socket count as gone this long after formation (the server
	 * passes a constant, so every replica builds the same state); absent: they never do.
	 */
	joinGraceMs?: number;
}): StudyRoomState {
	const { definition, version, now } = input;
	const stageIndex = input.startStageIndex ?? 0;
	const stage = definition.stages[stageIndex];
	const deadline = stage ? deadlineForStage(stage, now) : null;
	const absentAt = input.joinGraceMs === undefined ? null : now + input.joinGraceMs;
	return {
		version,
		definition,
		members: Object.fromEntries(
			input.members.map((m) => [m.id, createStudyMember(m, now, absentAt)])
		),
		stageIndex,
		stageStartedAt: now,
		deadline,
		paused: null,
		submissions: {},
		choices: {},
		timerBlock: stage && deadline !== null ? firstTimerBlock(stage) : null,
		finished: null,
		chat: [],
		chatCount: 0,
		goals: {},
		playback: createPlayback(stage, now)
	};
}

/**
 * Members whose absence deadline has passed at `now`: disconnected, still counted present, no
 * outcome yet. In deadline order, so a tick handles several leavers as they left.
 */
export function listDueAbsences(state: StudyRoomState, now: number): StudyMember[] {
	return Object.values(state.members)
		.filter(
			(m) =>
				m.outcome === null &&
				m.present &&
				!m.connected &&
				m.absentAt !== null &&
				m.absentAt !== undefined &&
				m.absentAt <= now
		)
		.sort((a, b) => a.absentAt! - b.absentAt!);
}

/** The earliest absence deadline of a member still taking part, or null. */
export function nextAbsenceDeadline(state: StudyRoomState): number | null {
	let next: number | null = null;
	for (const m of Object.values(state.members)) {
		if (m.outcome !== null || !m.present || m.connected) continue;
		if (m.absentAt === null || m.absentAt === undefined) continue;
		if (next === null || m.absentAt < next) next = m.absentAt;
	}
	return next;
}

/** Members still taking part: no outcome yet. */
export function listActiveMembers(state: StudyRoomState): StudyMember[] {
	return Object.values(state.members).filter((member) => member.outcome === null);
}

/** The stage the room is on, or undefined for a study without stages. */
export function currentStage(state: StudyRoomState) {
	return state.definition.stages[state.stageIndex];
}
