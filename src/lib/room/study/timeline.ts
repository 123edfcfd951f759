/**
 * A study room's log read back as a timeline (session replay, issue 8): one entry per event,
 * with a kind, a readable label and its time from the room's start, and the room's state at
 * any point of the log, folded with the reducer's own `applyStudy`. Pure and isomorphic: the
 * server builds the timeline, the browser folds states while a researcher scrubs.
 *
 * The log is read defensively: payloads of erased participants are redacted (privacy) and
 * events added by later versions are unknown here, so every field is checked before it is
 * shown, and an event the reducer cannot fold leaves the state as it was.
 */
import type { RoomEvent } from '../../protocol';
import type { StudyDefinition } from '../../study';
import { applyStudy } from './apply';
import type { StudyEvent } from './events';
import type { StudyRoomState } from './state';

export const TIMELINE_KINDS = [
	'stage',
	'submission',
	'chat',
	'join',
	'leave',
	'presence',
	'playback',
	'pause',
	'outcome',
	'av',
	'message',
	'other'
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export type TimelineEntry = {
	seq: number;
	/** Commit time, ms since the epoch. */
	at: number;
	/** Milliseconds since the room started (may be negative for nothing; clamped at 0). */
	onsetMs: number;
	kind: TimelineKind;
	/** The event's name in the log, for scripts and the unusual cases. */
	name: string;
	/** Who caused it, readable: a member label, "Server" or an experimenter's name. */
	actor: string;
	label: string;
	/** More about it (a response, a schedule, a file), or null. */
	detail: string | null;
};

/** Names people read for ids that appear in the log. */
export type TimelineNames = {
	/** Member id → label, e.g. `M1`. Defaults to labels from `labelMembers`. */
	members?: Record<string, string>;
	/** Experimenter user id → their name. */
	users?: Record<string, string>;
};

/** Longest detail kept per entry: a long answer or message is cut, the log keeps it whole. */
export const MAX_DETAIL_LENGTH = 240;

type Payload = Record<string, unknown>;

const asPayload = (value: unknown): Payload =>
	value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Payload) : {};
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null =>
	typeof value === 'number' && Number.isFinite(value) ? value : null;

/** Cuts `text` to MAX_DETAIL_LENGTH characters with an ellipsis. */
function clip(text: string): string {
	return text.length > MAX_DETAIL_LENGTH ? `${text.slice(0, MAX_DETAIL_LENGTH - 1)}…` : text;
}

/** A JSON value as one short line (answers are small objects). */
function formatValue(value: unknown): string | null {
	if (value === undefined) return null;
	if (typeof value === 'string') return clip(value);
	try {
		return clip(JSON.stringify(value));
	} catch {
		return null;
	}
}

const humanize = (id: string) => id.replaceAll('_', ' ');

function formatSeconds(ms: number): string {
	const seconds = ms / 1000;
	return seconds < 10 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds)} s`;
}

/**
 * Short labels for the room's members in the order they entered: `M1`, `M2`, … (the ids are
 * random and long). Founders come from the initial state, later joiners from `member.joined`.
 */
export function labelMembers(
	initial: Pick<StudyRoomState, 'members'>,
	events: readonly RoomEvent[]
): Record<string, string> {
	const labels: Record<string, string> = {};
	const add = (id: string) => {
		if (!(id in labels)) labels[id] = `M${Object.keys(labels).length + 1}`;
	};
	for (const id of Object.keys(initial.members)) add(id);
	for (const event of events) {
		if (event.name !== 'member.joined') continue;
		const id = str(asPayload(event.payload).id);
		if (id) add(id);
	}
	return labels;
}

/** What a timeline entry says about one event. */
type Described = { kind: TimelineKind; label: string; detail?: string | null };

/**
 * Describes one event. `member(id)` names a member, `stage(id)` a stage; unknown events and
 * unexpected payloads fall back to their name, never throw.
 */
function describeEvent(
	event: RoomEvent,
	member: (id: unknown) => string,
	stage: (id: unknown) => string
): Described {
	const p = asPayload(event.payload);
	switch (event.name) {
		case 'member.joined': {
			const extras = [
				p.role && `role ${String(p.role)}`,
				p.condition && `condition ${String(p.condition)}`
			];
			return {
				kind: 'join',
				label: `${member(p.id)} joined${p.isBot === true ? ' (bot)' : ''}`,
				detail: extras.filter(Boolean).join(', ') || null
			};
		}
		case 'member.connection':
			return {
				kind: 'presence',
				label: `${member(p.memberId)} ${p.connected === true ? 'connected' : 'disconnected'}`
			};
		case 'member.presence':
			return p.present === true
				? { kind: 'join', label: `${member(p.memberId)} came back` }
				: { kind: 'leave', label: `${member(p.memberId)} left (away past the grace period)` };
		case 'member.removed':
			return {
				kind: 'leave',
				label: `${member(p.memberId)} removed`,
				detail: str(p.outcome) ? `outcome ${humanize(str(p.outcome)!)}` : null
			};
		case 'stage.submitted':
			return {
				kind: 'submission',
				label: `${member(p.memberId)} submitted ${stage(p.stageId)}`,
				detail: formatValue(p.response)
			};
		case 'group_choice.picked':
			return {
				kind: 'submission',
				label: `${member(p.memberId)} picked “${String(p.option ?? '?')}” on ${stage(p.stageId)}`
			};
		case 'stage.incomplete':
			return {
				kind: 'submission',
				label: `${member(p.memberId)} did not answer ${stage(p.stageId)}`,
				detail: str(p.reason) ? humanize(str(p.reason)!) : null
			};
		case 'stage.advanced': {
			const cause = str(p.cause);
			return {
				kind: 'stage',
				label: `Stage ${(num(p.toIndex) ?? 0) + 1}: ${stage(p.toStageId)}`,
				detail: cause ? `from ${stage(p.fromStageId)}, by ${humanize(cause)}` : null
			};
		}
		case 'timer.block_started':
			return {
				kind: 'stage',
				label: `Timer block ${(num(p.index) ?? 0) + 1}, round ${(num(p.round) ?? 0) + 1}`
			};
		case 'member.outcome':
			return {
				kind: 'outcome',
				label: `${member(p.memberId)}: ${humanize(String(p.outcome ?? 'unknown'))}`
			};
		case 'room.finished':
			return { kind: 'outcome', label: `Room finished: ${humanize(String(p.outcome ?? '?'))}` };
		case 'room.paused': {
			const missing = Array.isArray(p.missing) ? p.missing.map(member) : [];
			return {
				kind: 'pause',
				label: `Room paused (${humanize(String(p.reason ?? '?'))})`,
				detail: missing.length > 0 ? `missing ${missing.join(', ')}` : null
			};
		}
		case 'room.resumed': {
			const paused = num(p.pausedMs);
			return {
				kind: 'pause',
				label: 'Room resumed',
				detail: paused === null ? null : `after ${formatSeconds(paused)}`
			};
		}
		case 'media.buffered':
			return { kind: 'playback', label: `${member(p.memberId)} buffered ${stage(p.stageId)}` };
		case 'playback.scheduled': {
			const schedule = asPayload(p.schedule);
			const position = num(schedule.anchorMediaTime);
			const by = p.by === null || p.by === undefined ? 'the room' : member(p.by);
			const state = schedule.playing === true ? 'play' : 'pause';
			return {
				kind: 'playback',
				label: `Video ${state} at ${position === null ? '?' : `${position.toFixed(1)} s`}`,
				detail: `${humanize(String(p.cause ?? '?'))}, by ${by}`
			};
		}
		case 'av.recorded':
			return describeAvRecord(p, member, stage);
		case 'chat.sent':
			return {
				kind: 'chat',
				label: `${member(p.memberId)} wrote on ${stage(p.stageId)}`,
				detail: formatValue(p.text)
			};
		case 'goal.set':
			return {
				kind: 'chat',
				label: `${member(p.memberId)} set their goal`,
				detail: formatValue(p.text)
			};
		case 'room.message': {
			const to = p.memberId ? ` to ${member(p.memberId)}` : ' to the room';
			return { kind: 'message', label: `Message${to}`, detail: formatValue(p.text) };
		}
		default:
			return { kind: 'other', label: event.name };
	}
}

function describeAvRecord(
	p: Payload,
	member: (id: unknown) => string,
	stage: (id: unknown) => string
): Described {
	// A participant's LiveKit identity is their member id; observers are `observer-<userId>`.
	const identity = str(p.identity)?.startsWith('observer-') ? 'an observer' : member(p.identity);
	switch (p.kind) {
		case 'participant_joined':
			return { kind: 'av', label: `A/V: ${identity} joined the call` };
		case 'participant_left':
			return { kind: 'av', label: `A/V: ${identity} left the call` };
		case 'track_published':
			return { kind: 'av', label: `A/V: ${identity} published ${String(p.source ?? 'a track')}` };
		case 'egress_started':
		case 'egress_ended': {
			const where = p.stageId ? ` of ${stage(p.stageId)}` : '';
			const verb = p.kind === 'egress_started' ? 'started' : 'ended';
			const parts = [str(p.file), str(p.status), str(p.error)].filter(Boolean);
			return {
				kind: 'av',
				label: `Recording${where} ${verb}`,
				detail: parts.length > 0 ? clip(parts.join(' · ')) : null
			};
		}
		case 'recording_failed':
			return {
				kind: 'av',
				label: `Recording of ${stage(p.stageId)} failed`,
				detail: formatValue(p.message)
			};
		default:
			return { kind: 'av', label: 'A/V event' };
	}
}

/**
 * The timeline of a study room's log, in log order, one entry per event. `startedAt` is the
 * room's start (its formation); by default the first event's time.
 */
export function buildTimeline(
	events: readonly RoomEvent[],
	definition: Pick<StudyDefinition, 'stages'>,
	options: { startedAt?: number; names?: TimelineNames } = {}
): TimelineEntry[] {
	const members = options.names?.members ?? {};
	const users = options.names?.users ?? {};
	const titles = new Map(definition.stages.map((s) => [s.id, s.title.trim() || s.id]));
	const member = (id: unknown) => {
		const key = typeof id === 'string' ? id : '';
		return members[key] ?? (key ? `member ${key.slice(0, 8)}` : 'a member');
	};
	const stage = (id: unknown) => (typeof id === 'string' ? `“${titles.get(id) ?? id}”` : 'a stage');
	const actorName = (actor: string) => {
		if (actor === 'system') return 'Server';
		if (members[actor]) return members[actor];
		return users[actor] ?? 'Experimenter';
	};
	const start = options.startedAt ?? events[0]?.at ?? 0;
	return events.map((event) => {
		const described = describeEvent(event, member, stage);
		return {
			seq: event.seq,
			at: event.at,
			onsetMs: Math.max(0, event.at - start),
			kind: described.kind,
			name: event.name,
			actor: actorName(event.actor),
			label: described.label,
			detail: described.detail ?? null
		};
	});
}

/** Folds one event, keeping the state when the reducer does not know or cannot read it. */
function foldEvent(state: StudyRoomState, event: RoomEvent): StudyRoomState {
	try {
		const next = applyStudy(state, { name: event.name, payload: event.payload } as StudyEvent) as
			StudyRoomState | undefined;
		return next ?? state;
	} catch {
		// A redacted or malformed payload: the replay goes on without it.
		return state;
	}
}

/**
 * The room's state right after event `seq` (0: as formed), folded from `initial` with the
 * reducer's `applyStudy`. `events` must be in log order.
 */
export function stateAt(
	initial: StudyRoomState,
	events: readonly RoomEvent[],
	seq: number
): StudyRoomState {
	let state = initial;
	for (const event of events) {
		if (event.seq > seq) break;
		state = foldEvent(state, event);
	}
	return state;
}

/**
 * States at every `interval`-th event, so a scrubber moving anywhere folds at most `interval`
 * events instead of the whole log. Built once per replay.
 */
export class ReplayIndex {
	readonly #events: readonly RoomEvent[];
	readonly #checkpoints: { index: number; state: StudyRoomState }[] = [];
	readonly #interval: number;

	constructor(initial: StudyRoomState, events: readonly RoomEvent[], interval = 200) {
		this.#events = events;
		this.#interval = Math.max(1, Math.floor(interval));
		let state = initial;
		this.#checkpoints.push({ index: 0, state });
		for (let i = 0; i < events.length; i++) {
			state = foldEvent(state, events[i]!);
			if ((i + 1) % this.#interval === 0) this.#checkpoints.push({ index: i + 1, state });
		}
	}

	/** The state after the first `count` events (0: as formed). */
	stateAfter(count: number): StudyRoomState {
		const bounded = Math.max(0, Math.min(Math.floor(count), this.#events.length));
		const checkpoint = this.#checkpoints[Math.floor(bounded / this.#interval)]!;
		let state = checkpoint.state;
		for (let i = checkpoint.index; i < bounded; i++) state = foldEvent(state, this.#events[i]!);
		return state;
	}
}

/** One member in the "room at this moment" panel. */
export type MomentMember = {
	id: string;
	label: string;
	role: string | null;
	condition: string | null;
	isBot: boolean;
	connected: boolean;
	present: boolean;
	/** Submitted the stage the room is on. */
	submittedCurrent: boolean;
	outcome: string | null;
};

/** What the scrubber shows of the room at one moment. */
export type RoomMoment = {
	stage: { index: number; id: string; title: string; type: string } | null;
	stageStartedAt: number;
	deadline: number | null;
	paused: { reason: string; missing: string[] } | null;
	finished: { at: number; outcome: string } | null;
	members: MomentMember[];
	chatCount: number;
};

/** The parts of a state the replay page shows, with members labelled. */
export function describeMoment(
	state: StudyRoomState,
	labels: Record<string, string> = {}
): RoomMoment {
	const stage = state.definition.stages[state.stageIndex];
	const label = (id: string) => labels[id] ?? id.slice(0, 8);
	return {
		stage: stage
			? { index: state.stageIndex, id: stage.id, title: stage.title || stage.id, type: stage.type }
			: null,
		stageStartedAt: state.stageStartedAt,
		deadline: state.deadline,
		paused: state.paused
			? { reason: state.paused.reason, missing: state.paused.missing.map(label) }
			: null,
		finished: state.finished,
		members: Object.values(state.members).map((m) => ({
			id: m.id,
			label: label(m.id),
			role: m.role,
			condition: m.condition,
			isBot: m.isBot,
			connected: m.connected,
			present: m.present,
			submittedCurrent: stage ? m.submitted.includes(stage.id) : false,
			outcome: m.outcome
		})),
		chatCount: state.chatCount ?? state.chat?.length ?? 0
	};
}
