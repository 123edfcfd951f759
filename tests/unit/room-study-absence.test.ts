import { describe, expect, test } from 'bun:test';
import { createStudyRoomState, nextWakeup } from '../../src/lib/room/study';
import type { DropoutPolicy } from '../../src/lib/study';
import { T0, TestRoom, makeStage, makeStudy, system } from '../support/room-study';

/**
 * A member's absence is a deadline in the room's state (`absentAt`, set by the disconnect), so
 * it fires wherever and whenever the room is loaded — not a timer in one replica's memory.
 */

const GRACE = 10_000;
const pauseThenEnd: DropoutPolicy = { policy: 'pause', countdownSeconds: 60, then: 'end' };

function roomWith(dropout: DropoutPolicy, members = ['a', 'b']): TestRoom {
	const room = new TestRoom(
		makeStudy([makeStage('chat', 'talk', { advance: 'experimenter', dropout })]),
		members
	);
	for (const memberId of members) {
		room.ok(system, 'member.connection', { memberId, connected: true });
	}
	return room;
}

const disconnect = (room: TestRoom, memberId: string) =>
	room.ok(system, 'member.connection', {
		memberId,
		connected: false,
		absentAt: room.now + GRACE
	});

describe('absence deadlines', () => {
	test('a disconnect sets the deadline; the tick at it makes the member absent and the policy acts', () => {
		const room = roomWith(pauseThenEnd);
		room.wait(5_000);
		disconnect(room, 'a');
		expect(room.state.members.a).toMatchObject({ connected: false, present: true });
		expect(nextWakeup(room.state)).toBe(T0 + 5_000 + GRACE);
		room.now = T0 + 5_000 + GRACE - 1;
		room.rejects(system, 'tick', {}, 'nothing_due');
		expect(room.tickAt(T0 + 5_000 + GRACE).ok).toBe(true);
		expect(room.state.members.a).toMatchObject({ present: false, absentAt: null });
		// The 60 s countdown runs from when they left: the grace is part of the wait.
		expect(room.state.paused).toMatchObject({
			reason: 'dropout',
			missing: ['a'],
			resumeDeadline: T0 + 5_000 + 60_000
		});
		expect(nextWakeup(room.state)).toBe(T0 + 5_000 + 60_000);
	});

	test('coming back before the deadline clears it: nothing happens', () => {
		const room = roomWith(pauseThenEnd);
		disconnect(room, 'a');
		room.wait(3_000);
		room.ok(system, 'member.connection', { memberId: 'a', connected: true });
		expect(room.state.members.a!.absentAt).toBeNull();
		expect(nextWakeup(room.state)).toBeNull();
		room.runTimersUntil(T0 + 120_000);
		expect(room.state.paused).toBeNull();
	});

	test('everyone gone, "pause 60 s then end": the room ends with dropout outcomes on timers alone', () => {
		const room = roomWith(pauseThenEnd, ['a', 'b', 'c']);
		room.wait(1_000);
		for (const id of ['a', 'b', 'c']) disconnect(room, id);
		const fired = room.runTimersUntil(T0 + 1_000 + 60_000);
		expect(fired).toEqual([T0 + 1_000 + GRACE, T0 + 1_000 + 60_000]);
		expect(room.state.finished).toMatchObject({ outcome: 'dropout' });
		for (const id of ['a', 'b', 'c']) expect(room.outcomeOf(id)).toBe('dropout');
		expect(nextWakeup(room.state)).toBeNull();
	});

	test('several leavers are handled in the order their deadlines fell', () => {
		const room = roomWith({ policy: 'continue', minMembers: 1 }, ['a', 'b', 'c']);
		disconnect(room, 'b');
		room.wait(2_000);
		disconnect(room, 'a');
		room.tickAt(T0 + 2_000 + GRACE);
		const absences = room.log
			.filter((e) => e.name === 'member.presence')
			.map((e) => (e.payload as { memberId: string }).memberId);
		expect(absences).toEqual(['b', 'a']);
		expect(room.outcomeOf('a')).toBe('dropout');
		expect(room.outcomeOf('b')).toBe('dropout');
		expect(room.outcomeOf('c')).toBeNull();
	});

	test('a member disconnected without a deadline (logged before deadlines existed) may be given one', () => {
		const room = roomWith(pauseThenEnd);
		room.ok(system, 'member.connection', { memberId: 'a', connected: false });
		expect(room.state.members.a!.absentAt).toBeNull();
		expect(nextWakeup(room.state)).toBeNull();
		disconnect(room, 'a');
		expect(room.state.members.a!.absentAt).toBe(room.now + GRACE);
		// Once it has one, a second disconnect changes nothing.
		room.rejects(
			system,
			'member.connection',
			{ memberId: 'a', connected: false, absentAt: room.now + 99_999 },
			'no_change'
		);
	});

	test('members who never connect count as gone after the join grace', () => {
		const definition = makeStudy([
			makeStage('chat', 'talk', { advance: 'experimenter', dropout: { policy: 'end' } })
		]);
		const state = createStudyRoomState({
			definition,
			version: 1,
			members: [{ id: 'a', role: null, condition: null, isBot: false }],
			now: T0,
			joinGraceMs: 30_000
		});
		expect(state.members.a!.absentAt).toBe(T0 + 30_000);
		expect(nextWakeup(state)).toBe(T0 + 30_000);
		// Without a join grace (the reducer's default) nobody is ever taken as gone unseen.
		const plain = createStudyRoomState({ definition, version: 1, members: [], now: T0 });
		expect(nextWakeup(plain)).toBeNull();
	});

	test('a finished room has no wake-up, whatever members still show', () => {
		const room = roomWith({ policy: 'end' });
		disconnect(room, 'a');
		room.tickAt(room.now + GRACE);
		expect(room.state.finished).toMatchObject({ outcome: 'dropout' });
		expect(nextWakeup(room.state)).toBeNull();
	});
});
