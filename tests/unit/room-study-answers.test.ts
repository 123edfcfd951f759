import { describe, expect, test } from 'bun:test';
import { memberView } from '../../src/lib/room/study';
import { createQuestionItem, type QuestionItem, type Stage } from '../../src/lib/study';
import { TestRoom, makeStage, makeStudy, participant } from '../support/room-study';

/**
 * Answers given in the room are validated like answers given alone (issue 14 §2): the reducer
 * checks every `stage.submit` with `validateStageResponse`; a refused one is `rejected` with
 * the validator's reason and message and changes nothing (`TestRoom.rejects` checks that the
 * state object is the same one).
 */

function survey(): Stage {
	const stage = makeStage('questionnaire', 'q', { advance: 'all_submitted' });
	const items: QuestionItem[] = [
		{ ...createQuestionItem('likert', []), id: 'mood' },
		{
			...createQuestionItem('choice', []),
			id: 'drink',
			required: false,
			options: [{ value: 'tea', label: 'Tea' }]
		} as QuestionItem
	];
	if (stage.type === 'questionnaire') {
		stage.content.items = items;
		// The "long" condition is shown an 11-point scale instead.
		stage.variants = [
			{
				when: { roles: [], conditions: ['long'] },
				content: {
					items: [{ ...createQuestionItem('likert', []), id: 'mood', points: 11 } as QuestionItem],
					randomizeOrder: false
				}
			}
		];
	}
	return stage;
}

const answersTo = (answers: unknown, rtMs: unknown = 800) => ({
	type: 'questionnaire',
	answers,
	rtMs
});

describe('stage.submit in the room', () => {
	test("the issue's bad submits are rejected with a reason and change nothing", () => {
		const room = new TestRoom(makeStudy([survey(), makeStage('instructions', 'next')]));
		const submit = (response: unknown) => ({ stageId: 'q', response });
		const a = participant('a');
		room.rejects(a, 'stage.submit', submit(answersTo({ mood: 9999 })), 'invalid_answers');
		room.rejects(a, 'stage.submit', submit(answersTo({ mood: 4, ghost: 1 })), 'invalid_answers');
		room.rejects(a, 'stage.submit', submit(answersTo({ drink: 'tea' })), 'invalid_answers');
		room.rejects(a, 'stage.submit', submit(answersTo({ mood: 4 }, -5)), 'invalid_response');
		room.rejects(a, 'stage.submit', submit('a bare string'), 'invalid_response');
		room.rejects(a, 'stage.submit', submit({ type: 'continue' }), 'wrong_response');
		room.rejects(
			a,
			'stage.submit',
			submit(answersTo({ mood: 4, drink: 'gin' })),
			'invalid_answers'
		);
		expect(room.log).toEqual([]);
		expect(memberView(room.state, 'a')!.youSubmitted).toBe(false);

		// A good answer afterwards is taken, and stored as sent.
		const good = answersTo({ mood: 4, drink: 'tea' });
		expect(room.ok(a, 'stage.submit', submit(good))).toEqual(['stage.submitted']);
		expect(room.state.submissions.q?.a?.response).toEqual(good);
	});

	test('the rejection carries the validator’s message, naming the item', () => {
		const room = new TestRoom(makeStudy([survey()]));
		const decision = room.send(participant('a'), 'stage.submit', {
			stageId: 'q',
			response: answersTo({ mood: 9999 })
		});
		expect(decision).toEqual({
			ok: false,
			reason: 'invalid_answers',
			message: 'One answer does not fit the questions: “mood”: Please choose a point from 1 to 7.'
		});
	});

	test('answers are checked against the variant the member was shown', () => {
		const room = new TestRoom(makeStudy([survey()]), ['a', 'b']);
		room.state = {
			...room.state,
			members: { ...room.state.members, b: { ...room.state.members.b!, condition: 'long' } }
		};
		room.rejects(
			participant('a'),
			'stage.submit',
			{ stageId: 'q', response: answersTo({ mood: 9 }) },
			'invalid_answers'
		);
		room.ok(participant('b'), 'stage.submit', { stageId: 'q', response: answersTo({ mood: 9 }) });
	});

	test('a late or stale submit is still told the stage moved on, before its answers are judged', () => {
		const room = new TestRoom(makeStudy([survey(), makeStage('instructions', 'next')]));
		room.submit('a');
		room.submit('b');
		expect(room.stageId).toBe('next');
		room.rejects(
			participant('a'),
			'stage.submit',
			{ stageId: 'q', response: 'x' },
			'already_submitted'
		);
		room.rejects(
			participant('a'),
			'stage.submit',
			{ stageId: 'gone', response: 'x' },
			'wrong_stage'
		);
	});

	test('declining consent is consent.decline, never an answer stored as declined', () => {
		const room = new TestRoom(makeStudy([makeStage('consent', 'c', { advance: 'all_submitted' })]));
		room.rejects(
			participant('a'),
			'stage.submit',
			{ stageId: 'c', response: { type: 'consent', agreed: false } },
			'invalid_response'
		);
		room.ok(participant('a'), 'stage.submit', {
			stageId: 'c',
			response: { type: 'consent', agreed: true }
		});
	});
});
