/**
 * Deciding what a command means for a study room: a list of events, or a typed rejection.
 * Pure: time comes in as `now` (server ms); nothing here reads a clock or schedules anything.
 */
import { validateStageResponse, type Outcome } from '../../study';
import { decideChat, decideGoal } from './chat';
import { parseStudyCommand, type Actor, type StudyCommand } from './commands';
import { expirePause, handleAbsence, handleReturn, resumeByExperimenter } from './dropout';
import { EventDraft } from './draft';
import type { StudyEvent } from './events';
import { canControlPlayback, decideBuffered, decideControl } from './playback';
import { fireStageDeadline, finishRoom, advanceStage, settleRoom } from './progress';
import {
	currentStage,
	listActiveMembers,
	listDueAbsences,
	type StudyMember,
	type StudyRoomState
} from './state';
import { currentTimerBlock } from './timer';

export type StudyRejection = { ok: false; reason: string; message: string };
export type StudyDecision = { ok: true; events: StudyEvent[] } | StudyRejection;

const reject = (reason: string, message: string): StudyRejection => ({
	ok: false,
	reason,
	message
});

/**
 * Decides `command` ({ name, payload } as received) from `actor` at server time `now`. A command
 * may produce several events (the last submit: `stage.submitted` + `stage.advanced`); nothing to
 * do is a rejection (`nothing_due`, `no_change`), so the caller never appends an empty batch.
 */
export function decideStudy(
	state: StudyRoomState,
	actor: Actor,
	command: { name: string; payload: unknown },
	now: number
): StudyDecision {
	const parsed = parseStudyCommand(actor, command.name, command.payload);
	if (!parsed.ok) return parsed;
	// A recording's end is reported after the room that stopped it finished: still its data.
	if (state.finished && parsed.command.name !== 'av.record') {
		if (parsed.command.name === 'tick') return reject('nothing_due', 'The room has finished.');
		return reject('room_finished', 'This study session has ended.');
	}
	const draft = new EventDraft(state, now);
	const rejection = decideParsed(draft, actor, parsed.command);
	if (rejection) return rejection;
	if (draft.events.length === 0) return reject('nothing_due', 'Nothing to do yet.');
	return { ok: true, events: draft.events };
}

/** The acting member, or why they cannot act. */
function findActiveMember(state: StudyRoomState, actor: Actor): StudyMember | StudyRejection {
	const member = state.members[actor.id];
	if (!member) return reject('not_a_member', 'You are not a member of this room.');
	if (member.outcome !== null) return reject('member_finished', 'You have already finished.');
	return member;
}

function decideParsed(
	draft: EventDraft,
	actor: Actor,
	command: StudyCommand
): StudyRejection | null {
	const { state, now } = draft;
	const stage = currentStage(state);
	switch (command.name) {
		case 'stage.submit':
		case 'group_choice.pick':
		case 'consent.decline': {
			const member = findActiveMember(state, actor);
			if ('ok' in member) return member;
			const { stageId } = command.payload;
			if (command.name !== 'group_choice.pick' && member.submitted.includes(stageId)) {
				return reject('already_submitted', 'Your answer for this stage is already saved.');
			}
			if (!stage || stage.id !== stageId) {
				return reject('wrong_stage', 'The room is on another stage now.');
			}
			if (command.name === 'consent.decline') {
				if (stage.type !== 'consent') return reject('wrong_stage', 'This is not a consent stage.');
				draft.emit({
					name: 'member.outcome',
					payload: { memberId: member.id, outcome: 'no_consent', at: now }
				});
				settleRoom(draft, 'no_consent');
				return null;
			}
			if (command.name === 'group_choice.pick') {
				if (stage.type !== 'group_choice') {
					return reject('wrong_stage', 'This stage has no group choice.');
				}
				const { option } = command.payload;
				// Options may differ by role or condition: checked against the ones this member was shown.
				const checked = validateStageResponse(stage, member, { type: 'group_choice', option });
				if (!checked.ok) return reject(checked.reason, checked.message);
				if (state.choices[stageId]?.[member.id] === option) {
					return reject('no_change', 'You already picked this option.');
				}
				draft.emit({
					name: 'group_choice.picked',
					payload: { stageId, memberId: member.id, option, at: now }
				});
				settleRoom(draft, 'dropout');
				return null;
			}
			if (stage.type === 'end' || stage.type === 'group_choice') {
				return reject('not_submittable', 'This stage takes no answer.');
			}
			// The same check as an answer given alone before the room: the stage's response type,
			// every answer against its item as this member was shown it. A refusal changes nothing.
			const checked = validateStageResponse(stage, member, command.payload.response);
			if (!checked.ok) return reject(checked.reason, checked.message);
			const { response } = checked;
			if (response.type === 'consent' && !response.agreed) {
				return reject('invalid_response', 'Declining consent is sent as consent.decline.');
			}
			draft.emit({
				name: 'stage.submitted',
				payload: { stageId, memberId: member.id, response, at: now }
			});
			settleRoom(draft, 'dropout');
			return null;
		}
		case 'chat.send':
		case 'goal.set': {
			const member = findActiveMember(state, actor);
			if ('ok' in member) return member;
			const { stageId, text } = command.payload;
			const decided =
				command.name === 'chat.send'
					? decideChat(draft, member.id, stageId, text)
					: decideGoal(draft, member.id, stageId, text);
			return decided && reject(decided.reason, decided.message);
		}
		case 'media.buffered': {
			const member = findActiveMember(state, actor);
			if ('ok' in member) return member;
			const decided = decideBuffered(draft, member.id, command.payload.stageId);
			return decided && reject(decided.reason, decided.message);
		}
		case 'playback.control': {
			if (!canControlPlayback(state, actor)) {
				return reject('control_not_allowed', 'Only the experimenter controls this video.');
			}
			const { stageId, ...control } = command.payload;
			const decided = decideControl(draft, actor.id, stageId, control);
			return decided && reject(decided.reason, decided.message);
		}
		case 'stage.advance': {
			if (!stage || stage.id !== command.payload.fromStageId) {
				return reject('stale_advance', 'The room has already left that stage.');
			}
			if (state.paused) return reject('paused', 'The room is paused.');
			if (actor.role === 'system') {
				if (state.deadline === null || now < state.deadline) {
					return reject('not_due', 'The stage timer has not run out.');
				}
				fireStageDeadline(draft);
				return null;
			}
			const allowed = stage.advance === 'experimenter' || stage.advance === 'first';
			if (!allowed && command.payload.force !== true) {
				return reject('advance_not_allowed', `This stage advances by rule "${stage.advance}".`);
			}
			advanceStage(draft, 'experimenter');
			return null;
		}
		case 'member.presence': {
			const { memberId, present } = command.payload;
			const member = state.members[memberId];
			if (!member) return reject('not_a_member', `No member ${memberId} in this room.`);
			if (member.present === present) return reject('no_change', 'Presence unchanged.');
			draft.emit({ name: 'member.presence', payload: { memberId, present, at: now } });
			// Someone already out (declined, dropped) changes nothing by coming or going.
			if (member.outcome !== null) return null;
			if (present) handleReturn(draft, memberId);
			else handleAbsence(draft, memberId);
			return null;
		}
		case 'member.connection': {
			const { memberId, connected, absentAt } = command.payload;
			const member = state.members[memberId];
			if (!member) return reject('not_a_member', `No member ${memberId} in this room.`);
			// A disconnected member without an absence deadline (a room loaded again after its
			// replica died, or logged before deadlines existed) may be given one.
			const setsDeadline =
				!connected && absentAt !== undefined && (member.absentAt ?? null) === null;
			if (member.connected === connected && !setsDeadline) {
				return reject('no_change', 'Connection unchanged.');
			}
			draft.emit({
				name: 'member.connection',
				payload: connected
					? { memberId, connected }
					: { memberId, connected, at: now, ...(absentAt === undefined ? {} : { absentAt }) }
			});
			return null;
		}
		case 'member.join': {
			const { memberId, role, condition, isBot } = command.payload;
			if (state.members[memberId]) return reject('already_member', 'Already in this room.');
			const session = state.definition.settings.session;
			const active = Object.values(state.members).filter((m) => m.outcome === null).length;
			if (session.mode === 'open' && active >= session.capacity) {
				return reject('room_full', 'This room is full.');
			}
			draft.emit({
				name: 'member.joined',
				payload: { id: memberId, role, condition, isBot, at: now }
			});
			return null;
		}
		case 'av.record':
			draft.emit({ name: 'av.recorded', payload: command.payload });
			return null;
		case 'room.pause':
			if (state.paused) return reject('already_paused', 'The room is already paused.');
			draft.emit({
				name: 'room.paused',
				payload: { since: now, resumeDeadline: null, reason: 'experimenter', missing: [] }
			});
			return null;
		case 'room.resume':
			if (!state.paused) return reject('not_paused', 'The room is not paused.');
			resumeByExperimenter(draft);
			return null;
		case 'room.end':
			finishRoom(draft, command.payload.outcome);
			return null;
		case 'member.remove':
			return decideRemoval(draft, command.payload.memberId, command.payload.outcome);
		case 'room.message': {
			const { text, memberId } = command.payload;
			if (memberId !== null && !state.members[memberId]) {
				return reject('not_a_member', `No member ${memberId} in this room.`);
			}
			const id = (state.messageCount ?? 0) + 1;
			draft.emit({ name: 'room.message', payload: { id, text, memberId, at: now } });
			return null;
		}
		case 'tick':
			decideTick(draft);
			return null;
	}
}

/**
 * The experimenter takes a member out with `outcome`: the removal is logged, the member gets
 * the outcome, and the room goes on without them — a dropout pause that waited only for them
 * lifts, a barrier they held up is met, and a room left empty finishes with their outcome.
 */
function decideRemoval(
	draft: EventDraft,
	memberId: string,
	outcome: Outcome
): StudyRejection | null {
	const member = draft.state.members[memberId];
	if (!member) return reject('not_a_member', `No member ${memberId} in this room.`);
	if (member.outcome !== null) {
		return reject('member_finished', 'That member has already finished.');
	}
	const { now } = draft;
	draft.emit({ name: 'member.removed', payload: { memberId, outcome, at: now } });
	draft.emit({ name: 'member.outcome', payload: { memberId, outcome, at: now } });
	if (listActiveMembers(draft.state).length > 0 && draft.state.paused?.missing.includes(memberId)) {
		handleReturn(draft, memberId);
	} else {
		settleRoom(draft, outcome);
	}
	return null;
}

/**
 * Lets every due deadline fire, in order: members' absences, the pause countdown, an end stage
 * reached at formation, the stage timer (never while paused), and the next timer block.
 */
function decideTick(draft: EventDraft): void {
	// Members whose absence deadline passed are gone now: their stage's dropout policy acts.
	for (const member of listDueAbsences(draft.state, draft.now)) {
		if (draft.state.finished) return;
		const current = draft.state.members[member.id];
		if (!current || current.outcome !== null || !current.present) continue;
		draft.emit({
			name: 'member.presence',
			payload: { memberId: member.id, present: false, at: draft.now }
		});
		handleAbsence(draft, member.id);
	}
	if (draft.state.finished) return;
	const paused = draft.state.paused;
	if (paused?.resumeDeadline != null && draft.now >= paused.resumeDeadline) expirePause(draft);
	settleRoom(draft, 'dropout');
	const state = draft.state;
	if (state.finished || state.paused) return;
	if (state.deadline !== null && draft.now >= state.deadline) {
		fireStageDeadline(draft);
		return;
	}
	const block = currentTimerBlock(state, draft.now);
	const stage = currentStage(state);
	const position = state.timerBlock;
	if (block && stage && (block.round !== position?.round || block.index !== position.index)) {
		draft.emit({
			name: 'timer.block_started',
			payload: { stageId: stage.id, round: block.round, index: block.index, at: draft.now }
		});
	}
}
