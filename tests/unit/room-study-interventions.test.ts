import { describe, expect, test } from 'bun:test';
import { MAX_ROOM_MESSAGE_LENGTH, memberView } from '../../src/lib/room/study';
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
 * The live monitor's interventions as reducer commands: advancing any stage (`force`), removing
 * a member with an outcome, and messages to the room or to one member. Experimenter only, each
 * one event (or a few) in the log.
 */

const questionnaireRoom = (members = ['a', 'b', 'c'], dropout?: DropoutPolicy) =>
	new TestRoom(
		makeStudy([
			makeStage('questionnaire', 'q', {
				advance: 'all_submitted',
				durationSeconds: null,
				...(dropout ? { dropout } : {})
			}),
			makeStage('instructions', 'next', { advance: 'experimenter' })
		]),
		members
	);

describe('stage.advance with force', () => {
	test('moves on from a stage whose rule refuses the experimenter, marking unanswered data', () => {
		const room = questionnaireRoom();
		room.submit('a');
		room.rejects(experimenter, 'stage.advance', { fromStageId: 'q' }, 'advance_not_allowed');
		room.rejects(participant('a'), 'stage.advance', { fromStageId: 'q', force: true }, 'forbidden');
		expect(room.ok(experimenter, 'stage.advance', { fromStageId: 'q', force: true })).toEqual([
			'stage.incomplete',
			'stage.incomplete',
			'stage.advanced'
		]);
		expect(room.stageId).toBe('next');
		expect(room.log.at(-1)?.payload).toMatchObject({ cause: 'experimenter', toStageId: 'next' });
	});

	test('a stale or paused advance is still refused', () => {
		const room = questionnaireRoom();
		room.rejects(
			experimenter,
			'stage.advance',
			{ fromStageId: 'elsewhere', force: true },
			'stale_advance'
		);
		room.ok(experimenter, 'room.pause', {});
		room.rejects(experimenter, 'stage.advance', { fromStageId: 'q', force: true }, 'paused');
	});

	test('force must be a boolean', () => {
		const room = questionnaireRoom();
		room.rejects(
			experimenter,
			'stage.advance',
			{ fromStageId: 'q', force: 'yes' },
			'invalid_command'
		);
	});
});

describe('member.remove', () => {
	test('the member gets the outcome and the others go on; the barrier no longer waits', () => {
		const room = questionnaireRoom();
		room.submit('a');
		room.submit('b');
		expect(room.stageId).toBe('q');
		const names = room.ok(experimenter, 'member.remove', {
			memberId: 'c',
			outcome: 'technical_error'
		});
		expect(names).toEqual([
			'member.removed',
			'stage.incomplete',
			'member.outcome',
			'stage.advanced'
		]);
		expect(room.log.find((e) => e.name === 'member.removed')?.payload).toEqual({
			memberId: 'c',
			outcome: 'technical_error',
			at: T0
		});
		expect(room.log.find((e) => e.name === 'stage.incomplete')?.payload).toMatchObject({
			memberId: 'c',
			reason: 'technical_error'
		});
		expect(room.outcomeOf('c')).toBe('technical_error');
		expect(room.outcomeOf('a')).toBeNull();
		expect(room.stageId).toBe('next');
		expect(memberView(room.state, 'c')?.outcome).toBe('technical_error');
	});

	test('removing the last member finishes the room with that outcome', () => {
		const room = questionnaireRoom(['a']);
		room.ok(experimenter, 'member.remove', { memberId: 'a', outcome: 'screened_out' });
		expect(room.state.finished).toEqual({ at: T0, outcome: 'screened_out' });
	});

	test('a dropout pause that waited only for the removed member lifts', () => {
		const room = questionnaireRoom(['a', 'b'], {
			policy: 'pause',
			countdownSeconds: 60,
			then: 'end'
		});
		room.ok(system, 'member.presence', { memberId: 'b', present: false });
		expect(room.state.paused?.missing).toEqual(['b']);
		room.wait(5_000);
		const names = room.ok(experimenter, 'member.remove', { memberId: 'b', outcome: 'dropout' });
		expect(names).toContain('room.resumed');
		expect(room.state.paused).toBeNull();
		expect(room.state.finished).toBeNull();
		room.submit('a');
		expect(room.stageId).toBe('next');
	});

	test('refusals: unknown member, already finished, wrong sender, bad outcome', () => {
		const room = questionnaireRoom();
		room.rejects(
			experimenter,
			'member.remove',
			{ memberId: 'zz', outcome: 'dropout' },
			'not_a_member'
		);
		room.ok(experimenter, 'member.remove', { memberId: 'a', outcome: 'dropout' });
		room.rejects(
			experimenter,
			'member.remove',
			{ memberId: 'a', outcome: 'dropout' },
			'member_finished'
		);
		room.rejects(
			participant('b'),
			'member.remove',
			{ memberId: 'c', outcome: 'dropout' },
			'forbidden'
		);
		room.rejects(
			experimenter,
			'member.remove',
			{ memberId: 'b', outcome: 'gone' },
			'invalid_command'
		);
	});
});

describe('room.message', () => {
	test('to the room: every member sees it; to one member: only they do', () => {
		const room = questionnaireRoom(['a', 'b']);
		room.ok(experimenter, 'room.message', { text: '  Two minutes left.  ', memberId: null });
		room.wait(1_000);
		room.ok(experimenter, 'room.message', { text: 'Please turn on sound.', memberId: 'b' });
		expect(room.log.map((e) => e.payload)).toEqual([
			{ id: 1, text: 'Two minutes left.', memberId: null, at: T0 },
			{ id: 2, text: 'Please turn on sound.', memberId: 'b', at: T0 + 1_000 }
		]);
		expect(memberView(room.state, 'a')?.notices).toEqual([
			{ id: 1, text: 'Two minutes left.', at: T0, toYou: false }
		]);
		expect(memberView(room.state, 'b')?.notices).toEqual([
			{ id: 1, text: 'Two minutes left.', at: T0, toYou: false },
			{ id: 2, text: 'Please turn on sound.', at: T0 + 1_000, toYou: true }
		]);
	});

	test('a member view carries the three newest; ids keep counting past the kept ones', () => {
		const room = questionnaireRoom(['a']);
		for (let i = 1; i <= 25; i++) {
			room.ok(experimenter, 'room.message', { text: `note ${i}`, memberId: null });
		}
		expect(room.state.messages).toHaveLength(20);
		expect(room.state.messageCount).toBe(25);
		expect(memberView(room.state, 'a')?.notices?.map((n) => n.id)).toEqual([23, 24, 25]);
	});

	test('refusals: empty, too long, unknown member, a participant, a finished room', () => {
		const room = questionnaireRoom(['a']);
		room.rejects(experimenter, 'room.message', { text: '   ', memberId: null }, 'invalid_command');
		room.rejects(
			experimenter,
			'room.message',
			{ text: 'x'.repeat(MAX_ROOM_MESSAGE_LENGTH + 1), memberId: null },
			'invalid_command'
		);
		room.rejects(experimenter, 'room.message', { text: 'hi', memberId: 'zz' }, 'not_a_member');
		room.rejects(participant('a'), 'room.message', { text: 'hi', memberId: null }, 'forbidden');
		room.ok(experimenter, 'room.end', { outcome: 'completed' });
		room.rejects(experimenter, 'room.message', { text: 'hi', memberId: null }, 'room_finished');
	});
});
