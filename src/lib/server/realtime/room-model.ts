import type { RoomEvent } from '../../protocol';
import {
	apply,
	applyStudyRoom,
	createRoomState,
	decide,
	decideStudyRoom,
	type Actor,
	type RoomState,
	type StudyRoomShell
} from '../../room';
import {
	createStudyRoomState,
	currentStage,
	listActiveMembers,
	memberView,
	nextWakeup,
	type StudyActorRole
} from '../../room/study';
import type { StudyRoomSetup } from '../rooms/study-rooms';
import type { MetricStage } from '../signals/room-metrics';
import { stageTelemetryAllowance, type StageAllowance } from './telemetry-quota';

/** Who sends a command to the core: a socket's actor, or this server (`system`). */
export type CommandActor = { id: string; role: Actor['role'] | Extract<StudyActorRole, 'system'> };

export type ModelDecision =
	| { ok: true; events: { name: string; payload: unknown }[] }
	/** `silent`: nothing to do for a system command; dropped without an answer. */
	| { ok: false; reason: string; message: string; silent: boolean };

/**
 * The reducer a LiveRoom runs, behind one shape: sandbox rooms the generic chat room, study
 * rooms the study reducer. Everything here is pure; the LiveRoom does the I/O.
 */
export type RoomModel = {
	kind: 'generic' | 'study';
	initial: { seq: number };
	decide(
		state: { seq: number },
		actor: CommandActor,
		name: string,
		payload: unknown,
		now: number
	): ModelDecision;
	apply(state: { seq: number }, event: RoomEvent): { seq: number };
	/** What a `resync` carries. Study rooms send only the seq: the full state holds others' answers. */
	snapshot(state: { seq: number }): unknown;
	/** When the next `tick` is due (server ms), or null. */
	wakeup(state: { seq: number }): number | null;
	/** The `view` frame payload for one actor, or undefined for none. */
	view(state: { seq: number }, actor: CommandActor): unknown;
	/** The member id behind an actor whose sockets drive connection/presence, or undefined. */
	memberOf(state: { seq: number }, actor: CommandActor): string | undefined;
	/**
	 * The event as fanned out: study submissions lose their answer, a message to one member its
	 * text (both stay in the log).
	 */
	redact(event: RoomEvent): RoomEvent;
	/**
	 * The running `group_metric` stage and the members it counts (those without an outcome),
	 * or null on any other stage, while paused or finished: the live metric's trigger.
	 */
	metricStage(state: { seq: number }): { stage: MetricStage; memberIds: string[] } | null;
	/** What one member may store as telemetry on the current stage (telemetry-quota.ts). */
	telemetryStage(state: { seq: number }): StageAllowance;
};

/** A room without stages (sandbox) is sized like an untimed stage with no media. */
const ROOM_ALLOWANCE = stageTelemetryAllowance(null, 'room');

/** The sandbox room, exactly as before the study runtime. */
export const GENERIC_MODEL: RoomModel = {
	kind: 'generic',
	initial: createRoomState(),
	decide(state, actor, name, payload) {
		const decision = decide(state as RoomState, actor as Actor, name, payload);
		if (!decision.ok) return { ...decision, silent: false };
		return { ok: true, events: [{ name: decision.name, payload: decision.payload }] };
	},
	apply: (state, event) => apply(state as RoomState, event),
	snapshot: (state) => state,
	wakeup: () => null,
	view: () => undefined,
	memberOf: () => undefined,
	redact: (event) => event,
	metricStage: () => null,
	telemetryStage: () => ROOM_ALLOWANCE
};

/**
 * A member whose socket never opens counts as gone this long after formation (then their stage's
 * dropout policy acts), so a group whose members all closed the tab at formation ends. Not a
 * setting: every replica must build the same initial state (tests pass their own to the hub).
 */
export const JOIN_GRACE_MS = 30_000;

/**
 * A study room's model, built from its setup (every replica builds the same initial state).
 * `joinGraceMs`: see JOIN_GRACE_MS.
 */
export function createStudyModel(setup: StudyRoomSetup, joinGraceMs = JOIN_GRACE_MS): RoomModel {
	const initial: StudyRoomShell = {
		seq: 0,
		study: createStudyRoomState({
			definition: setup.definition,
			version: setup.version,
			members: setup.members,
			now: setup.formedAt,
			startStageIndex: setup.startStageIndex,
			joinGraceMs
		})
	};
	const study = (state: { seq: number }) => (state as StudyRoomShell).study;
	return {
		kind: 'study',
		initial,
		decide: (state, actor, name, payload, now) =>
			decideStudyRoom(state as StudyRoomShell, actor, name, payload, now),
		apply: (state, event) => applyStudyRoom(state as StudyRoomShell, event),
		snapshot: (state) => ({ seq: state.seq }),
		wakeup: (state) => nextWakeup(study(state)),
		view(state, actor) {
			if (actor.role === 'experimenter' || actor.role === 'observer') {
				return { scope: 'room', state: study(state) };
			}
			return { scope: 'member', view: memberView(study(state), actor.id) };
		},
		memberOf(state, actor) {
			if (actor.role !== 'participant' && actor.role !== 'bot') return undefined;
			return study(state).members[actor.id] ? actor.id : undefined;
		},
		redact(event) {
			if (event.name === 'room.message') {
				// A message to one member reaches everyone's socket as an event: only the member's
				// own view (and the experimenters' room state) carries its text.
				const payload = event.payload as { memberId: string | null; text: string };
				if (payload.memberId === null) return event;
				const { text: _text, ...rest } = payload;
				return { ...event, payload: rest };
			}
			if (event.name !== 'stage.submitted') return event;
			const { response: _response, ...rest } = event.payload as Record<string, unknown>;
			return { ...event, payload: rest };
		},
		metricStage(state) {
			const room = study(state);
			const stage = currentStage(room);
			if (stage?.type !== 'group_metric' || room.paused || room.finished) return null;
			const { metric, signal, min, max } = stage.content;
			return {
				stage: { id: stage.id, metric, signal, min, max },
				memberIds: listActiveMembers(room).map((member) => member.id)
			};
		},
		telemetryStage(state) {
			const room = study(state);
			if (room.finished) return stageTelemetryAllowance(null, 'finished');
			return stageTelemetryAllowance(currentStage(room) ?? null, `stage-${room.stageIndex}`);
		}
	};
}
