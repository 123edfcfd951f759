import { describe, expect, test } from 'bun:test';
import { memberView, nextWakeup } from '../../src/lib/room/study';
import type { DropoutPolicy } from '../../src/lib/study';
import {
	T0,
	TestRoom,
	experimenter,
	makeStage,
	makeStudy,
	participant,
	system
} from '../support/room-study';

/**
 * Dropout policies act when a member's presence goes false (after the grace period); a
 * connection flap inside the grace period changes nothing.
 */

const COUNTDOWN = 30;

function roomWith(dropout: DropoutPolicy, members = ['a', 'b', 'c']): TestRoom {
	return new TestRoom(
		makeStudy([
			makeStage('chat', 'talk', { advance: 'first', durationSeconds: 100, dropout }),
			makeStage('instructions', 'after', { advance: 'experimenter' })
		]),
		members
	);
}

const leave = (room: TestRoom, id: string) =>
	room.ok(system, 'member.presence', { memberId: id, present: false });
const back = (room: TestRoom, id: string) =>
	room.ok(system, 'member.presence', { memberId: id, present: true });

describe('pause', () => {
	const pause = (then: 'continue' | 'end'): DropoutPolicy => ({
		policy: 'pause',
		countdownSeconds: COUNTDOWN,
		then
	});

	test('a connection flap inside the grace period has no effect', () => {
		const room = roomWith(pause('end'));
		expect(room.ok(system, 'member.connection', { memberId: 'a', connected: true })).toEqual([
			'member.connection'
		]);
		room.ok(system, 'member.connection', { memberId: 'a', connected: false });
		room.rejects(system, 'member.connection', { memberId: 'a', connected: false }, 'no_change');
		expect(room.state.paused).toBeNull();
		expect(room.state.members.a).toMatchObject({ connected: false, present: true });
	});

	test('leave → pause with countdown; return → resume with the deadline moved by the pause', () => {
		const room = roomWith(pause('end'));
		room.wait(40_000);
		leave(room, 'b');
		expect(room.state.paused).toEqual({
			since: T0 + 40_000,
			resumeDeadline: T0 + 40_000 + COUNTDOWN * 1000,
			reason: 'dropout',
			missing: ['b']
		});
		expect(memberView(room.state, 'a')!.paused).toMatchObject({ missingCount: 1 });
		expect(nextWakeup(room.state)).toBe(T0 + 70_000);
		// The stage timer stands still while paused, and submissions wait for the resume.
		room.submit('a');
		room.submit('c');
		room.now = T0 + 60_000;
		room.rejects(system, 'tick', {}, 'nothing_due');
		room.rejects(experimenter, 'stage.advance', { fromStageId: 'talk' }, 'paused');
		expect(back(room, 'b')).toEqual(['member.presence', 'room.resumed']);
		expect(room.state.paused).toBeNull();
		expect(room.state.deadline).toBe(T0 + 100_000 + 20_000);
		expect(room.outcomeOf('b')).toBeNull();
		room.submit('b');
		expect(room.stageId).toBe('after');
	});

	test('expiry with then: continue drops the missing member and the barrier moves on', () => {
		const room = roomWith(pause('continue'));
		room.submit('a');
		room.submit('c');
		room.wait(5_000);
		leave(room, 'b');
		room.tickAt(T0 + 5_000 + COUNTDOWN * 1000 - 1);
		expect(room.state.paused).not.toBeNull();
		expect(room.tickAt(T0 + 5_000 + COUNTDOWN * 1000)).toMatchObject({ ok: true });
		expect(room.outcomeOf('b')).toBe('dropout');
		expect(room.stageId).toBe('after');
		back(room, 'b');
		expect(room.outcomeOf('b')).toBe('dropout');
	});

	test('expiry with then: end ends the room with dropout for everyone', () => {
		const room = roomWith(pause('end'));
		leave(room, 'a');
		room.runTimersUntil(T0 + COUNTDOWN * 1000);
		expect(room.state.finished?.outcome).toBe('dropout');
		expect(['a', 'b', 'c'].map((id) => room.outcomeOf(id))).toEqual([
			'dropout',
			'dropout',
			'dropout'
		]);
	});

	test('a second leaver extends the countdown; both must return to resume', () => {
		const room = roomWith(pause('end'));
		leave(room, 'a');
		room.wait(10_000);
		leave(room, 'b');
		expect(room.state.paused?.resumeDeadline).toBe(T0 + 10_000 + COUNTDOWN * 1000);
		back(room, 'a');
		expect(room.state.paused?.missing).toEqual(['b']);
		back(room, 'b');
		expect(room.state.paused).toBeNull();
	});

	test('the experimenter pauses and resumes; resuming drops whoever is still missing', () => {
		const room = roomWith(pause('end'));
		room.ok(experimenter, 'room.pause');
		room.rejects(experimenter, 'room.pause', {}, 'already_paused');
		room.wait(1_000);
		leave(room, 'c');
		back(room, 'c');
		expect(room.state.paused).toMatchObject({
			reason: 'experimenter',
			missing: [],
			resumeDeadline: null
		});
		leave(room, 'c');
		room.wait(9_000);
		room.ok(experimenter, 'room.resume');
		expect(room.outcomeOf('c')).toBe('dropout');
		expect(room.state.deadline).toBe(T0 + 110_000);
		room.rejects(experimenter, 'room.resume', {}, 'not_paused');
	});
});

describe('continue and end', () => {
	test('continue: the leaver gets dropout; below minMembers the room ends', () => {
		const room = roomWith({ policy: 'continue', minMembers: 2 });
		expect(leave(room, 'a')).toEqual(['member.presence', 'member.outcome']);
		expect(room.state.finished).toBeNull();
		leave(room, 'b');
		expect(room.state.finished?.outcome).toBe('dropout');
		expect(room.outcomeOf('c')).toBe('dropout');
	});

	test('continue: a leaver who was the last one not done lets the stage advance', () => {
		const room = roomWith({ policy: 'continue', minMembers: 1 });
		room.submit('a');
		room.submit('b');
		leave(room, 'c');
		expect(room.stageId).toBe('after');
	});

	test('end: everyone gets dropout at once', () => {
		const room = roomWith({ policy: 'end' });
		leave(room, 'c');
		expect(room.state.finished?.outcome).toBe('dropout');
		expect(Object.values(room.state.members).map((m) => m.outcome)).toEqual([
			'dropout',
			'dropout',
			'dropout'
		]);
	});

	test('a member who already finished can come and go freely', () => {
		const room = roomWith({ policy: 'end' });
		room.state = {
			...room.state,
			definition: makeStudy([
				makeStage('consent', 'talk', { advance: 'all_submitted', dropout: { policy: 'end' } })
			])
		};
		room.ok(participant('a'), 'consent.decline', { stageId: 'talk' });
		expect(leave(room, 'a')).toEqual(['member.presence']);
		expect(room.state.finished).toBeNull();
	});
});

describe('wait stage', () => {
	test('the timeout drops those who never arrived and goes on with the others', () => {
		const room = new TestRoom(
			makeStudy([
				makeStage('wait', 'lobby', { advance: 'all_submitted', durationSeconds: 60 }),
				makeStage('instructions', 'after', { advance: 'experimenter' })
			]),
			['a', 'b', 'c']
		);
		room.submit('a');
		room.submit('b');
		room.runTimersUntil(T0 + 60_000);
		expect(room.outcomeOf('c')).toBe('dropout');
		expect(room.stageId).toBe('after');
		expect(room.log.find((e) => e.name === 'stage.advanced')?.payload).toMatchObject({
			cause: 'wait_timeout'
		});
	});
});

describe('open rooms', () => {
	test('members join up to the capacity', () => {
		const room = roomWith({ policy: 'end' }, ['a']);
		room.state = {
			...room.state,
			definition: makeStudy(room.state.definition.stages, (s) => {
				s.settings.session = { mode: 'open', capacity: 2, participantsCreateRooms: true };
			})
		};
		room.ok(system, 'member.join', { memberId: 'b', role: null, condition: null, isBot: true });
		room.rejects(
			system,
			'member.join',
			{ memberId: 'b', role: null, condition: null, isBot: true },
			'already_member'
		);
		room.rejects(
			system,
			'member.join',
			{ memberId: 'c', role: null, condition: null, isBot: false },
			'room_full'
		);
		expect(room.state.members.b).toMatchObject({ isBot: true, present: true, joinedAt: T0 });
	});
});

describe('incomplete stages', () => {
	const incompleteOf = (room: TestRoom) =>
		room.log.flatMap((e) =>
			e.name === 'stage.incomplete'
				? [`${e.payload.memberId}/${e.payload.stageId}/${e.payload.reason}`]
				: []
		);

	test('a member who leaves mid-questionnaire has it marked incomplete, once, before the outcome', () => {
		const room = new TestRoom(
			makeStudy([
				makeStage('questionnaire', 'q', {
					advance: 'all_submitted',
					dropout: { policy: 'continue', minMembers: 1 }
				}),
				makeStage('instructions', 'after', { advance: 'experimenter' })
			]),
			['a', 'b', 'c']
		);
		room.submit('a');
		expect(leave(room, 'b')).toEqual(['member.presence', 'stage.incomplete', 'member.outcome']);
		// a answered, b is gone: c's answer completes the barrier; nobody is marked twice.
		room.submit('c');
		expect(room.stageId).toBe('after');
		expect(incompleteOf(room)).toEqual(['b/q/dropout']);
	});

	test('a stage timer ending before an answer marks it stage_ended; chat and instructions are not data', () => {
		const room = new TestRoom(
			makeStudy([
				makeStage('instructions', 'read', { advance: 'timer', durationSeconds: 10 }),
				makeStage('group_choice', 'pick', { advance: 'timer', durationSeconds: 10 }),
				makeStage('chat', 'talk', { advance: 'experimenter' })
			])
		);
		room.runTimersUntil(T0 + 10_000);
		expect(room.stageId).toBe('pick');
		room.ok(participant('a'), 'group_choice.pick', { stageId: 'pick', option: 'a' });
		room.runTimersUntil(T0 + 20_000);
		expect(room.stageId).toBe('talk');
		expect(incompleteOf(room)).toEqual(['b/pick/stage_ended']);
		room.ok(experimenter, 'room.end', { outcome: 'technical_error' });
		expect(incompleteOf(room)).toEqual(['b/pick/stage_ended']);
	});

	test('the experimenter ending the room mid-questionnaire marks every unanswered member', () => {
		const room = new TestRoom(makeStudy([makeStage('questionnaire', 'q')]), ['a', 'b', 'c']);
		room.submit('b');
		room.ok(experimenter, 'room.end', { outcome: 'technical_error' });
		expect(incompleteOf(room)).toEqual(['a/q/technical_error', 'c/q/technical_error']);
	});
});
