import { describe, expect, test } from 'bun:test';
import type { RoomEvent } from '../../src/lib/protocol';
import {
	apply,
	createRoomState,
	decide,
	RECENT_MESSAGE_LIMIT,
	type Actor,
	type RoomState
} from '../../src/lib/room';

const participant: Actor = { id: 'p1', role: 'participant' };
const experimenter: Actor = { id: 'u:lead', role: 'experimenter' };

/** Decides and, when accepted, applies as the server would after the commit. */
function run(state: RoomState, actor: Actor, name: string, payload: unknown): RoomState {
	const decision = decide(state, actor, name, payload);
	if (!decision.ok) throw new Error(decision.reason);
	const event: RoomEvent = {
		seq: state.seq + 1,
		at: 1000 + state.seq,
		actor: actor.id,
		name: decision.name,
		payload: decision.payload
	};
	return apply(state, event);
}

describe('room reducer', () => {
	test('chat messages are folded in order and counted', () => {
		let state = createRoomState();
		state = run(state, participant, 'chat.send', { text: '  hello  ' });
		state = run(state, experimenter, 'chat.send', { text: 'welcome' });
		expect(state.seq).toBe(2);
		expect(state.messageCount).toBe(2);
		expect(state.recentMessages.map((m) => [m.seq, m.actor, m.text])).toEqual([
			[1, 'p1', 'hello'],
			[2, 'u:lead', 'welcome']
		]);
	});

	test('recent messages stay bounded', () => {
		let state = createRoomState();
		for (let i = 0; i < RECENT_MESSAGE_LIMIT + 10; i++)
			state = run(state, participant, 'chat.send', { text: `m${i}` });
		expect(state.recentMessages).toHaveLength(RECENT_MESSAGE_LIMIT);
		expect(state.recentMessages[0]!.text).toBe('m10');
		expect(state.messageCount).toBe(RECENT_MESSAGE_LIMIT + 10);
	});

	test('typed rejections: unknown, invalid, forbidden, closed', () => {
		const state = createRoomState();
		expect(decide(state, participant, 'fly', {})).toMatchObject({
			ok: false,
			reason: 'unknown_command'
		});
		expect(decide(state, participant, 'chat.send', { text: '   ' })).toMatchObject({
			ok: false,
			reason: 'invalid_command'
		});
		expect(decide(state, participant, 'chat.send', { text: 'x'.repeat(2001) })).toMatchObject({
			ok: false,
			reason: 'invalid_command'
		});
		expect(decide(state, participant, 'chat.send', { text: 'hi', extra: 1 })).toMatchObject({
			ok: false,
			reason: 'invalid_command'
		});
		expect(decide(state, participant, 'room.close', {})).toMatchObject({
			ok: false,
			reason: 'forbidden'
		});
		const closed = run(state, experimenter, 'room.close', { reason: 'done' });
		expect(closed.closed).toBe(true);
		expect(decide(closed, participant, 'chat.send', { text: 'hi' })).toMatchObject({
			ok: false,
			reason: 'room_closed'
		});
	});

	test('decide and apply are pure', () => {
		const state = createRoomState();
		const frozen = structuredClone(state);
		decide(state, participant, 'chat.send', { text: 'hi' });
		apply(state, { seq: 1, at: 0, actor: 'p1', name: 'chat.sent', payload: { text: 'hi' } });
		expect(state).toEqual(frozen);
	});

	test('unknown event names still advance the seq (newer servers, older clients)', () => {
		const state = apply(createRoomState(), {
			seq: 1,
			at: 0,
			actor: 'system',
			name: 'future.thing',
			payload: {}
		});
		expect(state.seq).toBe(1);
	});
});
