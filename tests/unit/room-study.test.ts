import { describe, expect, test } from 'bun:test';
import { applyStudy, decideStudy, memberView, type StudyEvent } from '../../src/lib/room/study';
import { STAGE_TYPES, type StageType } from '../../src/lib/study';
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
 * The study room reducer: stages run in lockstep, advance by their rule exactly once, and every
 * member ends with exactly one outcome. Driven with a fake clock (`now` is passed in).
 */

const SUBMITTABLE = STAGE_TYPES.filter((t) => t !== 'end' && t !== 'group_choice');

describe('stage types', () => {
	test.each(SUBMITTABLE)('%s advances once every member submitted (all_submitted)', (type) => {
		const room = new TestRoom(
			makeStudy([makeStage(type as StageType, 'first', { advance: 'all_submitted' })])
		);
		const answer = room.sampleResponse('a');
		expect(room.submit('a', answer)).toMatchObject({ ok: true });
		expect(room.stageId).toBe('first');
		expect(memberView(room.state, 'b')!.progress).toEqual({ submitted: 1, of: 2 });
		const second = room.submit('b');
		expect(second.ok && second.events.map((e) => e.name)).toEqual([
			'stage.submitted',
			'stage.advanced',
			'member.outcome',
			'member.outcome',
			'room.finished'
		]);
		expect(room.state.submissions.first?.a?.response).toEqual(answer);
	});

	test('group_choice advances when everyone picked; submit is refused there', () => {
		const room = new TestRoom(
			makeStudy([makeStage('group_choice', 'pick', { advance: 'all_submitted' })])
		);
		room.rejects(
			participant('a'),
			'stage.submit',
			{ stageId: 'pick', response: 1 },
			'not_submittable'
		);
		room.rejects(
			participant('a'),
			'group_choice.pick',
			{ stageId: 'pick', option: 'zzz' },
			'invalid_option'
		);
		room.ok(participant('a'), 'group_choice.pick', { stageId: 'pick', option: 'a' });
		room.rejects(
			participant('a'),
			'group_choice.pick',
			{ stageId: 'pick', option: 'a' },
			'no_change'
		);
		room.ok(participant('a'), 'group_choice.pick', { stageId: 'pick', option: 'b' });
		expect(
			room.ok(participant('b'), 'group_choice.pick', { stageId: 'pick', option: 'a' })
		).toContain('stage.advanced');
		expect(room.state.submissions.pick).toMatchObject({ a: { response: { option: 'b' } } });
	});

	test('group_choice with consensus waits until everyone picked the same option', () => {
		const stage = makeStage('group_choice', 'pick', { advance: 'all_submitted' });
		if (stage.type === 'group_choice') stage.content.consensusRequired = true;
		const room = new TestRoom(makeStudy([stage]));
		room.ok(participant('a'), 'group_choice.pick', { stageId: 'pick', option: 'a' });
		room.ok(participant('b'), 'group_choice.pick', { stageId: 'pick', option: 'b' });
		expect(room.stageId).toBe('pick');
		room.ok(participant('b'), 'group_choice.pick', { stageId: 'pick', option: 'a' });
		expect(room.state.finished?.outcome).toBe('completed');
	});

	test('live choices are shown only when the stage says so', () => {
		const stage = makeStage('group_choice', 'pick', { advance: 'experimenter' });
		const room = new TestRoom(makeStudy([stage]));
		room.ok(participant('a'), 'group_choice.pick', { stageId: 'pick', option: 'a' });
		expect(memberView(room.state, 'b')!.choices).toEqual({ a: 'a' });
		expect(memberView(room.state, 'a')!.yourChoice).toBe('a');
		if (stage.type === 'group_choice') stage.content.showChoicesLive = false;
		const hidden = new TestRoom(makeStudy([stage]));
		hidden.ok(participant('a'), 'group_choice.pick', { stageId: 'pick', option: 'a' });
		expect(memberView(hidden.state, 'b')!.choices).toBeNull();
		expect(memberView(hidden.state, 'b')!.yourChoice).toBeNull();
	});

	test('the end stage gives its outcome, code and redirect to everyone still in', () => {
		const end = makeStage('end', 'screen', {});
		if (end.type === 'end') end.content.outcome = 'screened_out';
		const room = new TestRoom(
			makeStudy([makeStage('instructions', 'intro', { advance: 'experimenter' }), end], (s) => {
				s.settings.outcomes.screened_out = { completionCode: 'SCR123', redirectUrl: '' };
			})
		);
		expect(memberView(room.state, 'a')!.completion).toBeNull();
		room.ok(experimenter, 'stage.advance', { fromStageId: 'intro' });
		expect(room.state.finished).toEqual({ at: T0, outcome: 'screened_out' });
		expect(room.outcomeOf('a')).toBe('screened_out');
		expect(memberView(room.state, 'b')!.completion).toEqual({
			code: 'SCR123',
			url: 'https://app.prolific.com/submissions/complete?cc=SCR123'
		});
		room.rejects(
			participant('a'),
			'stage.submit',
			{ stageId: 'screen', response: 1 },
			'room_finished'
		);
	});

	test('a study starting on its end stage finishes at the first tick', () => {
		const room = new TestRoom(makeStudy([makeStage('end', 'end')]));
		expect(room.state.finished).toBeNull();
		expect(room.tickAt(T0)).toMatchObject({ ok: true });
		expect(room.outcomeOf('a')).toBe('completed');
	});

	test('member views resolve variants for the member’s role and condition', () => {
		const stage = makeStage('instructions', 'intro', { advance: 'experimenter' });
		if (stage.type === 'instructions') {
			stage.variants = [
				{
					when: { roles: [], conditions: ['treat'] },
					content: { markdown: 'T', continueLabel: 'Go' }
				}
			];
		}
		const room = new TestRoom(makeStudy([stage]));
		room.ok(system, 'member.join', {
			memberId: 'c',
			role: 'participant',
			condition: 'treat',
			isBot: true
		});
		const seen = (id: string) => {
			const view = memberView(room.state, id)!;
			return view.stage?.type === 'instructions' ? view.stage.content.markdown : null;
		};
		expect(seen('c')).toBe('T');
		expect(seen('a')).toBe('');
		expect(memberView(room.state, 'nobody')).toBeNull();
	});
});

describe('advance rules', () => {
	test('timer: only the deadline advances', () => {
		const room = new TestRoom(
			makeStudy([makeStage('chat', 'talk', { advance: 'timer', durationSeconds: 60 })])
		);
		expect(room.state.deadline).toBe(T0 + 60_000);
		room.submit('a');
		room.submit('b');
		expect(room.stageId).toBe('talk');
		room.rejects(experimenter, 'stage.advance', { fromStageId: 'talk' }, 'advance_not_allowed');
		room.now = T0 + 59_999;
		room.rejects(system, 'tick', {}, 'nothing_due');
		expect(room.tickAt(T0 + 60_000)).toMatchObject({ ok: true });
		expect(room.log.find((e) => e.name === 'stage.advanced')?.payload).toMatchObject({
			cause: 'timer'
		});
	});

	test('all_submitted: a duration sets no deadline; present members without outcome count', () => {
		const room = new TestRoom(
			makeStudy([
				makeStage('questionnaire', 'q', { advance: 'all_submitted', durationSeconds: 30 })
			]),
			['a', 'b', 'c']
		);
		expect(room.state.deadline).toBeNull();
		room.submit('a');
		room.submit('b');
		expect(room.stageId).toBe('q');
		room.rejects(experimenter, 'stage.advance', { fromStageId: 'q' }, 'advance_not_allowed');
		room.submit('c');
		expect(room.state.finished).not.toBeNull();
	});

	test('experimenter: submissions and time never advance', () => {
		const room = new TestRoom(
			makeStudy([makeStage('wait', 'hold', { advance: 'experimenter', durationSeconds: null })])
		);
		room.submit('a');
		room.submit('b');
		room.rejects(system, 'stage.advance', { fromStageId: 'hold' }, 'not_due');
		room.rejects(participant('a'), 'stage.advance', { fromStageId: 'hold' }, 'forbidden');
		room.ok(experimenter, 'stage.advance', { fromStageId: 'hold' });
		expect(room.state.finished?.outcome).toBe('completed');
	});

	test.each([
		['timer', (room: TestRoom) => room.tickAt(T0 + 10_000)],
		['all_submitted', (room: TestRoom) => (room.submit('a'), room.submit('b'))],
		[
			'experimenter',
			(room: TestRoom) => room.send(experimenter, 'stage.advance', { fromStageId: 'one' })
		]
	] as const)('first: %s wins when it comes first', (cause, trigger) => {
		const room = new TestRoom(
			makeStudy([
				makeStage('instructions', 'one', { advance: 'first', durationSeconds: 10 }),
				makeStage('instructions', 'two', { advance: 'experimenter' })
			])
		);
		trigger(room);
		expect(room.stageId).toBe('two');
		const advanced = room.log.filter((e) => e.name === 'stage.advanced');
		expect(advanced).toHaveLength(1);
		expect(advanced[0]!.payload).toMatchObject({ cause, fromStageId: 'one', toStageId: 'two' });
	});
});

describe('exactly one advance', () => {
	const study = () =>
		makeStudy([
			makeStage('instructions', 'one', { advance: 'first', durationSeconds: 10 }),
			makeStage('instructions', 'two', { advance: 'first', durationSeconds: 10 })
		]);

	test('two replicas deciding on the same state: the loser re-decides and is stale', () => {
		const room = new TestRoom(study());
		const at = T0 + 10_000;
		const replicaA = decideStudy(
			room.state,
			system,
			{ name: 'stage.advance', payload: { fromStageId: 'one' } },
			at
		);
		const replicaB = decideStudy(
			room.state,
			experimenter,
			{ name: 'stage.advance', payload: { fromStageId: 'one' } },
			at
		);
		expect(replicaA.ok && replicaB.ok).toBe(true);
		// A's append wins the compare-and-set; B reads the log and decides again.
		room.state = (replicaA as { events: StudyEvent[] }).events.reduce(applyStudy, room.state);
		room.now = at;
		room.rejects(experimenter, 'stage.advance', { fromStageId: 'one' }, 'stale_advance');
		room.rejects(system, 'tick', {}, 'nothing_due');
		expect(room.stageId).toBe('two');
		expect(room.state.deadline).toBe(at + 10_000);
	});

	test('duplicate ticks and advances after the timer fired change nothing', () => {
		const room = new TestRoom(study());
		room.tickAt(T0 + 10_000);
		room.rejects(system, 'tick', {}, 'nothing_due');
		room.rejects(system, 'stage.advance', { fromStageId: 'one' }, 'stale_advance');
		room.rejects(experimenter, 'stage.advance', { fromStageId: 'one' }, 'stale_advance');
		expect(room.names().filter((n) => n === 'stage.advanced')).toHaveLength(1);
	});
});

describe('submissions and consent', () => {
	test('a second submit of the same stage is already_submitted, before and after the advance', () => {
		const room = new TestRoom(
			makeStudy([
				makeStage('questionnaire', 'q', { advance: 'all_submitted' }),
				makeStage('instructions', 'next', { advance: 'experimenter' })
			])
		);
		const first = room.sampleResponse('a', 1);
		room.submit('a', first);
		room.rejects(
			participant('a'),
			'stage.submit',
			{ stageId: 'q', response: room.sampleResponse('a', 2) },
			'already_submitted'
		);
		expect(room.state.submissions.q?.a?.response).toEqual(first);
		room.submit('b');
		room.rejects(
			participant('b'),
			'stage.submit',
			{ stageId: 'q', response: {} },
			'already_submitted'
		);
		room.rejects(
			participant('a'),
			'stage.submit',
			{ stageId: 'gone', response: {} },
			'wrong_stage'
		);
		room.rejects(
			participant('x'),
			'stage.submit',
			{ stageId: 'next', response: {} },
			'not_a_member'
		);
		room.rejects(participant('a'), 'stage.submit', { stageId: 'next' }, 'invalid_command');
		room.rejects(
			{ id: 'o', role: 'observer' },
			'stage.submit',
			{ stageId: 'next', response: 1 },
			'forbidden'
		);
		room.rejects(participant('a'), 'stage.jump', {}, 'unknown_command');
	});

	test('declining consent gives no_consent and frees the barrier', () => {
		const room = new TestRoom(
			makeStudy([
				makeStage('consent', 'consent', { advance: 'all_submitted' }),
				makeStage('instructions', 'next', { advance: 'experimenter' })
			]),
			['a', 'b', 'c']
		);
		room.submit('a');
		room.rejects(participant('a'), 'consent.decline', { stageId: 'consent' }, 'already_submitted');
		room.submit('b');
		expect(room.ok(participant('c'), 'consent.decline', { stageId: 'consent' })).toEqual([
			'member.outcome',
			'stage.advanced'
		]);
		expect(room.outcomeOf('c')).toBe('no_consent');
		room.rejects(
			participant('c'),
			'stage.submit',
			{ stageId: 'next', response: 1 },
			'member_finished'
		);
		room.ok(experimenter, 'stage.advance', { fromStageId: 'next' });
		expect(room.outcomeOf('a')).toBe('completed');
		expect(room.outcomeOf('c')).toBe('no_consent');
	});

	test('everyone declining finishes the room with no_consent', () => {
		const room = new TestRoom(
			makeStudy([makeStage('consent', 'consent', { advance: 'all_submitted' })])
		);
		room.ok(participant('a'), 'consent.decline', { stageId: 'consent' });
		room.ok(participant('b'), 'consent.decline', { stageId: 'consent' });
		expect(room.state.finished?.outcome).toBe('no_consent');
	});

	test('the experimenter can end the room with any outcome; folding never mutates', () => {
		const room = new TestRoom(makeStudy([makeStage('chat', 'talk', { advance: 'experimenter' })]));
		const before = structuredClone(room.state);
		const frozen = room.state;
		room.ok(experimenter, 'room.end', { outcome: 'technical_error' });
		expect(frozen).toEqual(before);
		expect(room.outcomeOf('a')).toBe('technical_error');
		room.rejects(experimenter, 'room.end', { outcome: 'completed' }, 'room_finished');
	});
});

describe('audio/video records', () => {
	test('av.record is logged as av.recorded, from the server only, also after the room finished', () => {
		const room = new TestRoom(makeStudy([makeStage('instructions', 'hello')]));
		const joined = { kind: 'participant_joined', identity: 'a', at: T0 + 5 };
		room.rejects(participant('a'), 'av.record', joined, 'forbidden');
		room.rejects(system, 'av.record', { ...joined, extra: 1 }, 'invalid_command');
		expect(room.ok(system, 'av.record', joined)).toEqual(['av.recorded']);
		room.ok(experimenter, 'room.end', { outcome: 'completed' });
		const ended = {
			kind: 'egress_ended',
			egressId: 'EG_1',
			stageId: 'talk',
			file: 's3://bucket/room.mp4',
			status: 'EGRESS_COMPLETE',
			error: null,
			at: T0 + 9
		};
		expect(room.ok(system, 'av.record', ended)).toEqual(['av.recorded']);
		room.rejects(experimenter, 'room.pause', {}, 'room_finished');
	});
});
