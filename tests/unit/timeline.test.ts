import { describe, expect, test } from 'bun:test';
import type { RoomEvent } from '../../src/lib/protocol';
import {
	applyStudyEvents,
	createStudyRoomState,
	type StudyEvent,
	type StudyRoomState
} from '../../src/lib/room/study';
import {
	buildTimeline,
	describeMoment,
	labelMembers,
	MAX_DETAIL_LENGTH,
	ReplayIndex,
	stateAt
} from '../../src/lib/room/study/timeline';
import {
	T0,
	TestRoom,
	experimenter,
	makeStage,
	makeStudy,
	participant
} from '../support/room-study';

// Session replay's pure core: the log of a room driven through the real reducer becomes one
// timeline entry per event, in order, with readable labels; the state at any seq is the
// reducer's own fold, however the scrubber gets there.

/** Stores reducer events as the log does: seq from 1, commit times a second apart. */
function toLog(events: StudyEvent[], actors: string[] = []): RoomEvent[] {
	return events.map((event, i) => ({
		seq: i + 1,
		at: T0 + (i + 1) * 1_000,
		actor: actors[i] ?? 'system',
		name: event.name,
		payload: event.payload
	}));
}

/** A room of a, b that chats, answers a questionnaire, picks together and ends. */
function runRoom() {
	const definition = makeStudy([
		makeStage('chat', 'talk', { title: 'Talk', advance: 'experimenter', durationSeconds: null }),
		makeStage('questionnaire', 'about', { title: 'About you', advance: 'all_submitted' }),
		makeStage('group_choice', 'pick', { title: 'Pick one', advance: 'all_submitted' })
	]);
	const room = new TestRoom(definition);
	const initial = room.state;
	const actors: string[] = [];
	const act = (actor: string, run: () => string[]) => {
		const names = run();
		actors.push(...names.map(() => actor));
	};
	act('a', () => room.ok(participant('a'), 'chat.send', { stageId: 'talk', text: 'Hello there' }));
	act('u:lead', () => room.ok(experimenter, 'stage.advance', { fromStageId: 'talk' }));
	act('a', () =>
		room.ok(participant('a'), 'stage.submit', {
			stageId: 'about',
			response: { type: 'questionnaire', answers: { q: 1 }, rtMs: 0 }
		})
	);
	act('b', () =>
		room.ok(participant('b'), 'stage.submit', {
			stageId: 'about',
			response: { type: 'questionnaire', answers: { q: 2 }, rtMs: 0 }
		})
	);
	act('a', () => room.ok(participant('a'), 'group_choice.pick', { stageId: 'pick', option: 'a' }));
	act('b', () => room.ok(participant('b'), 'group_choice.pick', { stageId: 'pick', option: 'a' }));
	return { room, initial, definition, log: toLog(room.log, actors) };
}

describe('buildTimeline', () => {
	test('one entry per event, in log order, with kinds, labels, actors and onsets', () => {
		const { initial, definition, log } = runRoom();
		const labels = labelMembers(initial, log);
		expect(labels).toEqual({ a: 'M1', b: 'M2' });
		const timeline = buildTimeline(log, definition, {
			startedAt: T0,
			names: { members: labels, users: { 'u:lead': 'Lee Lead' } }
		});
		expect(timeline.map((e) => e.seq)).toEqual(log.map((e) => e.seq));
		expect(timeline.map((e) => e.name)).toEqual(log.map((e) => e.name));
		expect(timeline.map((e) => e.onsetMs)).toEqual(log.map((_, i) => (i + 1) * 1_000));
		const byName = (name: string) => timeline.filter((e) => e.name === name);
		expect(byName('chat.sent')).toEqual([
			expect.objectContaining({
				kind: 'chat',
				actor: 'M1',
				label: 'M1 wrote on “Talk”',
				detail: 'Hello there'
			})
		]);
		const advances = byName('stage.advanced');
		expect(advances[0]).toMatchObject({
			kind: 'stage',
			actor: 'Lee Lead',
			label: 'Stage 2: “About you”',
			detail: 'from “Talk”, by experimenter'
		});
		expect(byName('stage.submitted').map((e) => [e.kind, e.label, e.detail])).toEqual([
			[
				'submission',
				'M1 submitted “About you”',
				'{"type":"questionnaire","answers":{"q":1},"rtMs":0}'
			],
			[
				'submission',
				'M2 submitted “About you”',
				'{"type":"questionnaire","answers":{"q":2},"rtMs":0}'
			]
		]);
		expect(byName('group_choice.picked')[0]!.label).toBe('M1 picked “a” on “Pick one”');
		expect(byName('member.outcome').map((e) => [e.kind, e.label])).toEqual([
			['outcome', 'M1: completed'],
			['outcome', 'M2: completed']
		]);
		expect(byName('room.finished')[0]).toMatchObject({
			kind: 'outcome',
			label: 'Room finished: completed',
			actor: 'M2'
		});
	});

	test('joins, presence, pauses, playback, A/V facts and unknown events read sensibly', () => {
		const definition = makeStudy([makeStage('video', 'film', { title: 'Film' })]);
		const log: RoomEvent[] = [
			{
				name: 'member.joined',
				payload: { id: 'c', role: 'speaker', condition: null, isBot: true, at: 1 }
			},
			{ name: 'member.connection', payload: { memberId: 'c', connected: true } },
			{ name: 'member.presence', payload: { memberId: 'a', present: false, at: 2 } },
			{
				name: 'room.paused',
				payload: { since: 2, resumeDeadline: 9, reason: 'dropout', missing: ['a'] }
			},
			{ name: 'room.resumed', payload: { at: 3, pausedMs: 12_400 } },
			{
				name: 'playback.scheduled',
				payload: {
					stageId: 'film',
					schedule: {
						mediaId: 'm',
						playing: true,
						anchorMediaTime: 12.25,
						anchorServerTime: 5,
						rate: 1
					},
					cause: 'control',
					by: 'c',
					at: 4
				}
			},
			{ name: 'av.recorded', payload: { kind: 'participant_joined', identity: 'c', at: 5 } },
			{
				name: 'av.recorded',
				payload: {
					kind: 'egress_ended',
					egressId: 'EG_1',
					stageId: null,
					file: 's3://b/k.mp4',
					status: 'EGRESS_COMPLETE',
					error: null,
					at: 6
				}
			},
			{ name: 'room.message', payload: { text: 'Please stay', memberId: 'c' } },
			{ name: 'something.new', payload: 42 }
		].map((e, i) => ({ seq: i + 1, at: T0 + i, actor: 'system', ...e }));
		const timeline = buildTimeline(log, definition, {
			names: { members: { a: 'M1', b: 'M2', c: 'M3' } }
		});
		expect(timeline.map((e) => [e.kind, e.label, e.detail])).toEqual([
			['join', 'M3 joined (bot)', 'role speaker'],
			['presence', 'M3 connected', null],
			['leave', 'M1 left (away past the grace period)', null],
			['pause', 'Room paused (dropout)', 'missing M1'],
			['pause', 'Room resumed', 'after 12 s'],
			['playback', 'Video play at 12.3 s', 'control, by M3'],
			['av', 'A/V: M3 joined the call', null],
			['av', 'Recording ended', 's3://b/k.mp4 · EGRESS_COMPLETE'],
			['message', 'Message to M3', 'Please stay'],
			['other', 'something.new', null]
		]);
		// Without startedAt, onsets count from the first event; the server is "Server".
		expect(timeline.map((e) => e.onsetMs)).toEqual(log.map((_, i) => i));
		expect(timeline[0]!.actor).toBe('Server');
	});

	test('long and redacted payloads are clipped or shown as they are, never thrown on', () => {
		const definition = makeStudy([makeStage('chat', 'talk')]);
		const log: RoomEvent[] = [
			{
				seq: 1,
				at: T0,
				actor: 'a',
				name: 'chat.sent',
				payload: { memberId: 'a', stageId: 'talk', text: 'x'.repeat(5_000) }
			},
			{ seq: 2, at: T0, actor: 'a', name: 'stage.submitted', payload: { redacted: true } },
			{ seq: 3, at: T0, actor: 'a', name: 'chat.sent', payload: null }
		];
		const timeline = buildTimeline(log, definition);
		expect(timeline[0]!.detail!.length).toBe(MAX_DETAIL_LENGTH);
		expect(timeline[0]!.detail!.endsWith('…')).toBe(true);
		expect(timeline[1]).toMatchObject({ kind: 'submission', label: 'a member submitted a stage' });
		expect(timeline[2]).toMatchObject({ kind: 'chat', detail: null });
	});
});

describe('stateAt and ReplayIndex', () => {
	test('the state at each seq is the reducer fold of the events up to it', () => {
		const { room, initial, log } = runRoom();
		for (let seq = 0; seq <= log.length; seq++) {
			const expected = applyStudyEvents(initial, room.log.slice(0, seq));
			expect(stateAt(initial, log, seq)).toEqual(expected);
		}
		expect(stateAt(initial, log, log.length)).toEqual(room.state);
	});

	test('the checkpointed index answers like a fold from the start, anywhere, in any order', () => {
		const { initial, log } = runRoom();
		const index = new ReplayIndex(initial, log, 3);
		const positions = [log.length, 0, 5, 2, 3, 4, log.length - 1, 1, 6, 99, -4];
		for (const position of positions) {
			const bounded = Math.max(0, Math.min(position, log.length));
			expect(index.stateAfter(position)).toEqual(stateAt(initial, log, bounded));
		}
	});

	test('events the reducer cannot fold leave the state as it was', () => {
		const definition = makeStudy([makeStage('chat', 'talk')]);
		const initial: StudyRoomState = createStudyRoomState({
			definition,
			version: 1,
			members: [{ id: 'a', role: null, condition: null, isBot: false }],
			now: T0
		});
		const log: RoomEvent[] = [
			{ seq: 1, at: T0, actor: 'system', name: 'something.new', payload: {} },
			{ seq: 2, at: T0, actor: 'a', name: 'stage.submitted', payload: null }
		];
		expect(stateAt(initial, log, 2)).toBe(initial);
		expect(new ReplayIndex(initial, log, 1).stateAfter(2)).toBe(initial);
	});
});

describe('describeMoment', () => {
	test('the stage, members with labels and who answered the stage the room is on', () => {
		const { initial, log } = runRoom();
		// After a's answer to "About you" (seq 3: chat, advance, a's submit).
		const moment = describeMoment(stateAt(initial, log, 3), { a: 'M1', b: 'M2' });
		expect(moment.stage).toEqual({
			index: 1,
			id: 'about',
			title: 'About you',
			type: 'questionnaire'
		});
		expect(moment.members.map((m) => [m.label, m.submittedCurrent, m.outcome])).toEqual([
			['M1', true, null],
			['M2', false, null]
		]);
		expect(moment.chatCount).toBe(1);
		expect(moment.finished).toBeNull();
		const end = describeMoment(stateAt(initial, log, log.length), { a: 'M1', b: 'M2' });
		expect(end.finished).toMatchObject({ outcome: 'completed' });
		expect(end.members.map((m) => m.outcome)).toEqual(['completed', 'completed']);
	});

	test('labelMembers: founders in join order, then later joiners, each once', () => {
		const definition = makeStudy([makeStage('chat', 'talk')]);
		const initial = createStudyRoomState({
			definition,
			version: 1,
			members: ['z', 'y'].map((id) => ({ id, role: null, condition: null, isBot: false })),
			now: T0
		});
		const joined = (id: string, seq: number): RoomEvent => ({
			seq,
			at: T0,
			actor: 'system',
			name: 'member.joined',
			payload: { id, role: null, condition: null, isBot: false, at: T0 }
		});
		expect(labelMembers(initial, [joined('x', 1), joined('z', 2), joined('w', 3)])).toEqual({
			z: 'M1',
			y: 'M2',
			x: 'M3',
			w: 'M4'
		});
	});
});
