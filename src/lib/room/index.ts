/**
 * The room as a pure state machine. `decide` turns a command into one event or a typed
 * rejection; `apply` folds an event into the state. Both are pure and shared by server and
 * browser: the server decides and persists, clients fold the same events.
 *
 * This is the realtime core's generic room (chat and closing). Study rooms run the study
 * reducer (`./study`) through the composition at the end of this file.
 */
import * as v from 'valibot';
import type { RoomEvent, Rejection } from '../protocol';
import {
	applyStudy,
	decideStudy,
	type Actor as StudyActor,
	type StudyEvent,
	type StudyRoomState
} from './study';

/** Observers (viewers, hidden experimenters) receive everything and may not send commands. */
export type ActorRole = 'participant' | 'experimenter' | 'observer' | 'bot';
export type Actor = { id: string; role: ActorRole };

export type RoomState = {
	/** The seq of the last event folded in; 0 for a new room. */
	seq: number;
	closed: boolean;
	messageCount: number;
	/** Recent chat, newest last, bounded so snapshots stay small. */
	recentMessages: { seq: number; actor: string; text: string; at: number }[];
};

export const RECENT_MESSAGE_LIMIT = 50;

export function createRoomState(): RoomState {
	return { seq: 0, closed: false, messageCount: 0, recentMessages: [] };
}

const commandSchemas = {
	'chat.send': v.strictObject({
		text: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(2000))
	}),
	'room.close': v.strictObject({ reason: v.optional(v.pipe(v.string(), v.maxLength(200))) })
} as const;

export type CommandName = keyof typeof commandSchemas;

/** The event a successful command produces (seq, time and actor are added on commit). */
export type Decision = { ok: true; name: string; payload: unknown } | ({ ok: false } & Rejection);

/** Decides what a command means in the current state. Pure. */
export function decide(state: RoomState, actor: Actor, name: string, payload: unknown): Decision {
	if (!(name in commandSchemas)) {
		return { ok: false, reason: 'unknown_command', message: `Unknown command "${name}".` };
	}
	const parsed = v.safeParse(commandSchemas[name as CommandName], payload);
	if (!parsed.success) {
		return { ok: false, reason: 'invalid_command', message: parsed.issues[0].message };
	}
	if (state.closed) {
		return { ok: false, reason: 'room_closed', message: 'This room has been closed.' };
	}
	switch (name as CommandName) {
		case 'chat.send':
			return { ok: true, name: 'chat.sent', payload: parsed.output };
		case 'room.close':
			if (actor.role !== 'experimenter') {
				return {
					ok: false,
					reason: 'forbidden',
					message: 'Only an experimenter can close a room.'
				};
			}
			return { ok: true, name: 'room.closed', payload: parsed.output };
	}
}

/** Folds one event into the state. Pure; events must arrive in seq order. */
export function apply(state: RoomState, event: RoomEvent): RoomState {
	const next: RoomState = { ...state, seq: event.seq };
	switch (event.name) {
		case 'chat.sent': {
			const { text } = event.payload as { text: string };
			next.messageCount = state.messageCount + 1;
			next.recentMessages = [
				...state.recentMessages,
				{ seq: event.seq, actor: event.actor, text, at: event.at }
			].slice(-RECENT_MESSAGE_LIMIT);
			break;
		}
		case 'room.closed':
			next.closed = true;
			break;
	}
	return next;
}

// --- Study rooms (composition) --------------------------------------------------------------

/**
 * A study room as the realtime core holds it: the log position plus the study reducer's state.
 * Kept apart from `RoomState` so sandbox rooms are untouched by the study runtime.
 */
export type StudyRoomShell = { seq: number; study: StudyRoomState };

/** What deciding a study command gives the core: several events at once, or a rejection. */
export type StudyRoomDecision =
	| { ok: true; events: { name: string; payload: unknown }[] }
	| ({ ok: false; silent: boolean } & Rejection);

/**
 * Rejections of the server's own commands that only mean "nothing to do": another replica's
 * tick won, or presence/connection did not change. Dropped without logging or answering.
 */
// `already_member`: another replica admitted a late joiner to an open room first.
const SILENT_SYSTEM_REJECTIONS = new Set([
	'nothing_due',
	'no_change',
	'not_due',
	'stale_advance',
	'already_member'
]);

/** Decides one command against a study room. Pure. */
export function decideStudyRoom(
	shell: StudyRoomShell,
	actor: StudyActor,
	name: string,
	payload: unknown,
	now: number
): StudyRoomDecision {
	const decision = decideStudy(shell.study, actor, { name, payload }, now);
	if (decision.ok) return { ok: true, events: decision.events };
	const silent = actor.role === 'system' && SILENT_SYSTEM_REJECTIONS.has(decision.reason);
	return { ok: false, silent, reason: decision.reason, message: decision.message };
}

/** Folds one logged event into a study room. Pure; events must arrive in seq order. */
export function applyStudyRoom(shell: StudyRoomShell, event: RoomEvent): StudyRoomShell {
	return {
		seq: event.seq,
		study: applyStudy(shell.study, { name: event.name, payload: event.payload } as StudyEvent)
	};
}
