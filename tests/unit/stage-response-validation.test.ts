import { describe, expect, test } from 'bun:test';
import {
	createQuestionItem,
	createStage,
	STAGE_TYPES,
	validateStageResponse,
	type QuestionItem,
	type QuestionKind,
	type Stage,
	type VariantMember
} from '../../src/lib/study';

/**
 * The one check of a submitted response against its stage (issue 14 §2), used by the pre-room
 * path, the room reducer and, through its per-item rules, the page: every kind of item, every
 * bad case the issue names, and variants by role and condition.
 */

const anyone: VariantMember = { role: null, condition: null };

function item<K extends QuestionKind>(
	kind: K,
	id: string,
	overrides: Partial<Extract<QuestionItem, { kind: K }>> = {}
): QuestionItem {
	return { ...createQuestionItem(kind, []), id, ...overrides } as QuestionItem;
}

function questionnaire(items: QuestionItem[]): Stage {
	const stage = createStage('questionnaire', []);
	if (stage.type === 'questionnaire') stage.content.items = items;
	return stage;
}

const answersTo = (answers: Record<string, unknown>, rtMs: unknown = 1500) => ({
	type: 'questionnaire',
	answers,
	rtMs
});

/** Every kind of item once, with bounds worth testing. */
const SURVEY = questionnaire([
	item('likert', 'mood'),
	item('choice', 'drink', {
		options: [
			{ value: 'tea', label: 'Tea' },
			{ value: 'coffee', label: 'Coffee' }
		]
	}),
	item('checkboxes', 'pets', {
		required: false,
		options: ['cat', 'dog', 'fish'].map((value) => ({ value, label: value })),
		minSelected: 1,
		maxSelected: 2
	}),
	item('slider', 'warmth', { min: 0, max: 10, step: 0.5 }),
	item('number', 'age', { min: 18, max: 99, integer: true, required: false }),
	item('short_text', 'name', { maxLength: 5, required: false }),
	item('long_text', 'story', { maxLength: 20, required: false })
]);
const GOOD = {
	mood: 4,
	drink: 'tea',
	pets: ['cat'],
	warmth: 7.5,
	age: 30,
	name: 'Ada',
	story: 'x'
};

function refusal(stage: Stage, raw: unknown, member = anyone) {
	const result = validateStageResponse(stage, member, raw);
	return result.ok ? { reason: 'accepted' } : result;
}

/** The refused answer's reason and the item ids it names. */
function itemsRefused(answers: Record<string, unknown>): { reason: string; items: string[] } {
	const result = validateStageResponse(SURVEY, anyone, answersTo(answers));
	if (result.ok) return { reason: 'accepted', items: [] };
	return { reason: result.reason, items: result.issues.map((issue) => issue.itemId) };
}

describe('the shape of a response', () => {
	test('a good questionnaire answer is accepted and returned as the copy to store', () => {
		const raw = answersTo(GOOD);
		const result = validateStageResponse(SURVEY, anyone, raw);
		expect(result).toEqual({ ok: true, response: raw as never });
	});

	test("the issue's bare string, and anything else that is no response, is invalid_response", () => {
		for (const raw of ['hello', 42, null, undefined, [], {}, { type: 'rate' }, true]) {
			const result = refusal(SURVEY, raw);
			expect({ raw, reason: result.reason }).toEqual({ raw, reason: 'invalid_response' });
			expect('message' in result && result.message).toStartWith('The response is not valid:');
		}
	});

	test("rtMs must be a sane non-negative whole number of milliseconds (the issue's -5)", () => {
		for (const rtMs of [-5, 1.5, '100', null, 86_400_001, Number.NaN]) {
			expect(refusal(SURVEY, answersTo(GOOD, rtMs)).reason).toBe('invalid_response');
		}
		expect(refusal(SURVEY, answersTo(GOOD, -5))).toMatchObject({
			message: 'The response is not valid: rtMs: rtMs must not be negative'
		});
		expect(refusal(SURVEY, answersTo(GOOD, 0)).reason).toBe('accepted');
		expect(refusal(SURVEY, answersTo(GOOD, 86_400_000)).reason).toBe('accepted');
	});

	test('extra fields, nested objects as answers and unstorable text are refused', () => {
		expect(refusal(SURVEY, { ...answersTo(GOOD), admin: true }).reason).toBe('invalid_response');
		expect(refusal(SURVEY, answersTo({ ...GOOD, name: { $gt: '' } })).reason).toBe(
			'invalid_response'
		);
		expect(refusal(SURVEY, answersTo({ ...GOOD, name: 'a\u0000b' })).reason).toBe(
			'invalid_response'
		);
		expect(refusal(SURVEY, answersTo({ ...GOOD, ['x\u0000']: 1 })).reason).toBe('invalid_response');
		expect(refusal(SURVEY, answersTo({ ...GOOD, name: '\ud800' })).reason).toBe('invalid_response');
	});
});

describe('the response type a stage collects', () => {
	test('each stage type takes its own type; the end takes none', () => {
		const responses = {
			continue: { type: 'continue' },
			consent: { type: 'consent', agreed: true },
			questionnaire: answersTo({ q: 4 }),
			group_choice: { type: 'group_choice', option: 'a' }
		} as const;
		for (const type of STAGE_TYPES) {
			const stage = createStage(type, []);
			const own =
				type === 'consent' || type === 'questionnaire' || type === 'group_choice'
					? type
					: 'continue';
			for (const [kind, response] of Object.entries(responses)) {
				const expected =
					type === 'end' ? 'not_submittable' : kind === own ? 'accepted' : 'wrong_response';
				expect({ type, kind, reason: refusal(stage, response).reason }).toEqual({
					type,
					kind,
					reason: expected
				});
			}
		}
	});

	test('the refusal says what the stage takes', () => {
		expect(refusal(SURVEY, { type: 'continue' })).toMatchObject({
			reason: 'wrong_response',
			message: 'This stage takes a “questionnaire” response, not “continue”.'
		});
	});
});

describe('questionnaire answers against their items', () => {
	test("a 7-point item answered 9999 (the issue's case), 0, 3.5 or as text is refused", () => {
		for (const mood of [9999, 0, 8, 3.5, -1, '4', ['4']]) {
			expect(itemsRefused({ ...GOOD, mood })).toEqual({
				reason: 'invalid_answers',
				items: ['mood']
			});
		}
	});

	test('unknown items are refused, however many', () => {
		expect(itemsRefused({ ...GOOD, ghost: 'boo' })).toEqual({
			reason: 'invalid_answers',
			items: ['ghost']
		});
		expect(itemsRefused({ ...GOOD, a: 1, b: 2 }).items).toEqual(['a', 'b']);
	});

	test('missing required items are refused; optional ones may be missing or null', () => {
		expect(itemsRefused({ drink: 'tea' })).toEqual({
			reason: 'invalid_answers',
			items: ['mood', 'warmth']
		});
		expect(itemsRefused({ ...GOOD, mood: null }).items).toEqual(['mood']);
		expect(itemsRefused({ mood: 1, drink: 'coffee', warmth: 0 }).reason).toBe('accepted');
		expect(itemsRefused({ ...GOOD, pets: null, age: null, name: null, story: null }).reason).toBe(
			'accepted'
		);
	});

	test('a choice must be one of its options', () => {
		expect(itemsRefused({ ...GOOD, drink: 'gin' }).items).toEqual(['drink']);
		expect(itemsRefused({ ...GOOD, drink: 3 }).items).toEqual(['drink']);
	});

	test('checkboxes: values among the options, each once, within the counts, as a list', () => {
		expect(itemsRefused({ ...GOOD, pets: ['cat', 'dog'] }).reason).toBe('accepted');
		for (const pets of [['cow'], ['cat', 'cat'], ['cat', 'dog', 'fish'], 'cat']) {
			expect(itemsRefused({ ...GOOD, pets })).toEqual({
				reason: 'invalid_answers',
				items: ['pets']
			});
		}
		// Not a list of option values at all: the shape is wrong.
		expect(itemsRefused({ ...GOOD, pets: [1] }).reason).toBe('invalid_response');
	});

	test('sliders: within the range, on a step, a number', () => {
		expect(itemsRefused({ ...GOOD, warmth: 10 }).reason).toBe('accepted');
		for (const warmth of [10.5, -0.5, 7.25, '7.5']) {
			expect(itemsRefused({ ...GOOD, warmth }).items).toEqual(['warmth']);
		}
	});

	test('numbers: a number (not the text typed), whole when asked, within the bounds', () => {
		expect(itemsRefused({ ...GOOD, age: 18 }).reason).toBe('accepted');
		for (const age of [17, 100, 30.5, '30', ['30']]) {
			expect(itemsRefused({ ...GOOD, age }).items).toEqual(['age']);
		}
	});

	test('texts: a text within the maximum length', () => {
		expect(itemsRefused({ ...GOOD, name: 'Alice' }).reason).toBe('accepted');
		expect(itemsRefused({ ...GOOD, name: 'Alicia' }).items).toEqual(['name']);
		expect(itemsRefused({ ...GOOD, story: 'x'.repeat(21) }).items).toEqual(['story']);
		expect(itemsRefused({ ...GOOD, name: 12 }).items).toEqual(['name']);
	});

	test('the message names the items and their problems, the first three of many', () => {
		expect(refusal(SURVEY, answersTo({ ...GOOD, mood: 9999 }))).toMatchObject({
			message: 'One answer does not fit the questions: “mood”: Please choose a point from 1 to 7.'
		});
		const many = refusal(SURVEY, answersTo({ a: 1, b: 2, c: 3, d: 4 }));
		expect(many).toMatchObject({ reason: 'invalid_answers' });
		expect('message' in many && many.message).toStartWith('7 answers do not fit the questions:');
		expect('message' in many && many.message).toEndWith('(and 4 more)');
	});

	test('items named like Object properties keep their answers; __proto__ is only data', () => {
		const stage = questionnaire([item('likert', 'constructor'), item('choice', 'prototype')]);
		expect(refusal(stage, answersTo({})).reason).toBe('invalid_answers');
		const both = answersTo({ constructor: 2, prototype: 'a' });
		expect(validateStageResponse(stage, anyone, both)).toEqual({
			ok: true,
			response: both as never
		});
		const polluted = JSON.parse(
			'{"type":"questionnaire","answers":{"constructor":2,"prototype":"a","__proto__":{"x":1}},"rtMs":1}'
		) as unknown;
		expect(refusal(stage, polluted).reason).toBe('invalid_response');
		const hidden = JSON.parse(
			'{"type":"questionnaire","answers":{"constructor":2,"prototype":"a","__proto__":3},"rtMs":1}'
		) as unknown;
		expect(refusal(stage, hidden)).toMatchObject({
			reason: 'invalid_answers',
			issues: [{ itemId: '__proto__', message: 'This stage has no such question.' }]
		});
		expect(({} as Record<string, unknown>).x).toBeUndefined();
	});
});

describe('variants: what this member was shown', () => {
	function pickStage(): Stage {
		const stage = createStage('group_choice', []);
		if (stage.type !== 'group_choice') throw new Error('not a group choice');
		stage.variants = [
			{
				when: { roles: ['buyer'], conditions: [] },
				content: { ...stage.content, options: [{ value: 'deal', label: 'Deal' }] }
			}
		];
		return stage;
	}

	test('a group choice is checked against the options of the member’s variant', () => {
		const buyer = { role: 'buyer', condition: null };
		const seller = { role: 'seller', condition: null };
		const pick = (option: string) => ({ type: 'group_choice', option });
		expect(refusal(pickStage(), pick('deal'), buyer).reason).toBe('accepted');
		expect(refusal(pickStage(), pick('a'), buyer)).toMatchObject({
			reason: 'invalid_option',
			message: 'That is not one of the options.'
		});
		expect(refusal(pickStage(), pick('a'), seller).reason).toBe('accepted');
		expect(refusal(pickStage(), pick('deal'), seller).reason).toBe('invalid_option');
	});

	test('questionnaire items come from the member’s variant too', () => {
		const stage = questionnaire([item('likert', 'mood', { points: 5 })]);
		stage.variants = [
			{
				when: { roles: [], conditions: ['long'] },
				content: { items: [item('likert', 'mood', { points: 11 })], randomizeOrder: false }
			}
		];
		const long = { role: null, condition: 'long' };
		expect(refusal(stage, answersTo({ mood: 9 }), long).reason).toBe('accepted');
		expect(refusal(stage, answersTo({ mood: 9 })).reason).toBe('invalid_answers');
	});
});
