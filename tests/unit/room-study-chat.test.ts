import { describe, expect, test } from 'bun:test';
import {
	MAX_RECENT_CHAT,
	TIMER_CHAT_MAX_LENGTH,
	applyStudyEvents,
	createStudyRoomState,
	memberView
} from '../../src/lib/room/study';
import { TestRoom, experimenter, makeStage, makeStudy, participant } from '../support/room-study';

/** Chat on chat and timer stages, and the shared goal line of a timer stage. */

function chatRoom(maxMessageLength = 20): TestRoom {
	const chat = makeStage('chat', 'talk', { advance: 'experimenter' });
	if (chat.type === 'chat') chat.content.maxMessageLength = maxMessageLength;
	return new TestRoom(makeStudy([chat, makeStage('instructions', 'after')]));
}

function timerRoom(goalPrompt: string): TestRoom {
	const timer = makeStage('timer', 'focus', { advance: 'experimenter' });
	if (timer.type === 'timer') {
		timer.content.blocks = [{ label: 'Focus', kind: 'focus', seconds: 60 }];
		timer.content.goalPrompt = goalPrompt;
	}
	return new TestRoom(makeStudy([timer]));
}

describe('chat.send', () => {
	test('every member sees every message, labelled and in order', () => {
		const room = chatRoom();
		expect(room.ok(participant('a'), 'chat.send', { stageId: 'talk', text: ' hi there ' })).toEqual(
			['chat.sent']
		);
		room.wait(500);
		room.ok(participant('b'), 'chat.send', { stageId: 'talk', text: 'hello' });
		const forA = memberView(room.state, 'a')!.chat!;
		const forB = memberView(room.state, 'b')!.chat!;
		expect(forA.map((m) => [m.id, m.author, m.mine, m.text])).toEqual([
			[1, 'Member 1', true, 'hi there'],
			[2, 'Member 2', false, 'hello']
		]);
		expect(forB.map((m) => m.mine)).toEqual([false, true]);
		expect(forB[1]!.at).toBe(forA[0]!.at + 500);
	});

	test('length is 1..maxMessageLength after trimming', () => {
		const room = chatRoom(5);
		room.rejects(participant('a'), 'chat.send', { stageId: 'talk', text: '   ' }, 'invalid_length');
		room.rejects(
			participant('a'),
			'chat.send',
			{ stageId: 'talk', text: '123456' },
			'invalid_length'
		);
		room.ok(participant('a'), 'chat.send', { stageId: 'talk', text: '12345' });
	});

	test('only members, only on the current chat or timer stage', () => {
		const room = chatRoom();
		room.rejects(experimenter, 'chat.send', { stageId: 'talk', text: 'x' }, 'forbidden');
		room.rejects(participant('z'), 'chat.send', { stageId: 'talk', text: 'x' }, 'not_a_member');
		room.rejects(participant('a'), 'chat.send', { stageId: 'after', text: 'x' }, 'wrong_stage');
		room.ok(experimenter, 'stage.advance', { fromStageId: 'talk' });
		room.rejects(
			participant('a'),
			'chat.send',
			{ stageId: 'after', text: 'x' },
			'chat_not_allowed'
		);
		// The next stage's view no longer carries the chat stage's messages.
		expect(memberView(room.state, 'a')!.chat).toEqual([]);
	});

	test('timer stages take chat up to their own limit', () => {
		const room = timerRoom('');
		room.ok(participant('a'), 'chat.send', {
			stageId: 'focus',
			text: 'x'.repeat(TIMER_CHAT_MAX_LENGTH)
		});
		room.rejects(
			participant('a'),
			'chat.send',
			{ stageId: 'focus', text: 'x'.repeat(TIMER_CHAT_MAX_LENGTH + 1) },
			'invalid_length'
		);
	});

	test('the state keeps a bounded recent list; ids keep counting', () => {
		const room = chatRoom();
		for (let i = 0; i < MAX_RECENT_CHAT + 5; i++) {
			room.ok(participant(i % 2 ? 'a' : 'b'), 'chat.send', { stageId: 'talk', text: `m${i}` });
		}
		expect(room.state.chat).toHaveLength(MAX_RECENT_CHAT);
		expect(room.state.chat![0]!.text).toBe('m5');
		expect(room.state.chat!.at(-1)!.id).toBe(MAX_RECENT_CHAT + 5);
	});

	test('folding the log again gives the same chat (events carry their ids and times)', () => {
		const room = chatRoom();
		room.ok(participant('a'), 'chat.send', { stageId: 'talk', text: 'one' });
		room.wait(10);
		room.ok(participant('b'), 'chat.send', { stageId: 'talk', text: 'two' });
		const fresh = createStudyRoomState({
			definition: room.state.definition,
			version: 1,
			members: ['a', 'b'].map((id) => ({
				id,
				role: 'participant',
				condition: 'control',
				isBot: false
			})),
			now: 1_000_000
		});
		expect(applyStudyEvents(fresh, room.log).chat).toEqual(room.state.chat);
	});
});

describe('goal.set', () => {
	test('one goal line per member, latest wins, shown to all', () => {
		const room = timerRoom('What will you finish?');
		room.ok(participant('a'), 'goal.set', { stageId: 'focus', text: 'draft' });
		room.ok(participant('b'), 'goal.set', { stageId: 'focus', text: 'read' });
		room.ok(participant('a'), 'goal.set', { stageId: 'focus', text: 'final draft' });
		room.rejects(
			participant('a'),
			'goal.set',
			{ stageId: 'focus', text: 'final draft ' },
			'no_change'
		);
		expect(memberView(room.state, 'b')!.goals!.map((g) => [g.author, g.mine, g.text])).toEqual([
			['Member 1', false, 'final draft'],
			['Member 2', true, 'read']
		]);
	});

	test('only on timer stages with a goal prompt, at most 300 characters', () => {
		timerRoom('').rejects(
			participant('a'),
			'goal.set',
			{ stageId: 'focus', text: 'x' },
			'goal_not_allowed'
		);
		const room = timerRoom('Goal?');
		room.rejects(
			participant('a'),
			'goal.set',
			{ stageId: 'focus', text: 'x'.repeat(301) },
			'invalid_command'
		);
		room.ok(participant('a'), 'goal.set', { stageId: 'focus', text: 'x'.repeat(300) });
		expect(
			chatRoom().send(participant('a'), 'goal.set', { stageId: 'talk', text: 'x' })
		).toMatchObject({
			ok: false,
			reason: 'goal_not_allowed'
		});
	});
});
