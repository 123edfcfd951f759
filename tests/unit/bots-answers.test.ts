import { describe, expect, test } from 'bun:test';
import * as v from 'valibot';
import {
	checkAnswer,
	checkAnswers,
	checkSubmittedAnswer,
	createQuestionItem,
	StageResponseSchema,
	createStage,
	STAGE_TYPES,
	STUDY_TEMPLATES,
	type QuestionItem,
	type QuestionKind,
	validateStageResponse
} from '../../src/lib/study';
import {
	createRandom,
	sampleAnswer,
	sampleAnswers,
	sampleStageResponse
} from '../../src/lib/study/answers-sample';

/**
 * The bots' answer generator: whatever the question, what a bot answers is an answer a person
 * could have given (it passes the page's checks and the server's response schema), and a seed
 * replays the same answers.
 */

const SEEDS = Array.from({ length: 200 }, (_, i) => i * 7919 + 1);

function question<K extends QuestionKind>(
	kind: K,
	overrides: Partial<Extract<QuestionItem, { kind: K }>> = {}
): QuestionItem {
	return { ...createQuestionItem(kind, []), ...overrides } as QuestionItem;
}

/** Questions at their defaults and at awkward edges of each kind's settings. */
const QUESTIONS: [string, QuestionItem][] = [
	['likert 7', question('likert')],
	['likert 2', question('likert', { points: 2 })],
	['choice', question('choice')],
	['checkboxes, none required', question('checkboxes', { required: false })],
	['checkboxes 2–3 of 5', checkboxes(5, 2, 3)],
	['checkboxes exactly 1', checkboxes(4, 1, 1)],
	['checkboxes all', checkboxes(3, 3, null)],
	['slider 0–100', question('slider')],
	['slider with a fractional step', question('slider', { min: -1, max: 1, step: 0.1 })],
	['slider 0.3 steps not reaching max', question('slider', { min: 0.5, max: 2, step: 0.3 })],
	['number, no bounds', question('number')],
	['number 18–99 whole', question('number', { min: 18, max: 99, integer: true })],
	['number 0.2–0.8 decimals', question('number', { min: 0.2, max: 0.8, integer: false })],
	['number at most -5', question('number', { min: null, max: -5, integer: false })],
	['number one value', question('number', { min: 3, max: 3, integer: true })],
	['short text of 1', question('short_text', { maxLength: 1 })],
	['short text', question('short_text')],
	['long text of 12', question('long_text', { maxLength: 12 })],
	['optional long text', question('long_text', { required: false })]
];

function checkboxes(count: number, min: number, max: number | null): QuestionItem {
	const options = Array.from({ length: count }, (_, i) => ({ value: `o${i}`, label: `O ${i}` }));
	return question('checkboxes', { options, minSelected: min, maxSelected: max });
}

describe('sampleAnswer', () => {
	for (const [name, item] of QUESTIONS) {
		test(`${name}: every sampled answer passes the page's and the server's check`, () => {
			for (const seed of SEEDS) {
				const answer = sampleAnswer(item, createRandom(seed));
				expect(checkAnswer(item, answer)).toBeNull();
				expect({ seed, answer, error: checkSubmittedAnswer(item, answer) }).toEqual({
					seed,
					answer,
					error: null
				});
				if (item.required) expect(answer).not.toBeNull();
			}
		});
	}

	test('sliders land on a step; numbers respect integer; choices come from the options', () => {
		const slider = question('slider', { min: -1, max: 1, step: 0.1 });
		const whole = question('number', { min: 18, max: 99, integer: true });
		const choice = question('choice');
		for (const seed of SEEDS) {
			const random = createRandom(seed);
			const value = sampleAnswer(slider, random) as number;
			expect(Math.abs(Math.round((value + 1) * 10) - (value + 1) * 10)).toBeLessThan(1e-9);
			expect(Number.isInteger(sampleAnswer(whole, random))).toBe(true);
			expect(['a', 'b']).toContain(sampleAnswer(choice, random) as string);
		}
	});

	test('answers vary with the seed and repeat with it', () => {
		const items = QUESTIONS.map(([, item], i) => ({ ...item, id: `q${i}` }));
		const first = sampleAnswers(items, createRandom(42));
		expect(sampleAnswers(items, createRandom(42))).toEqual(first);
		const others = SEEDS.slice(0, 20).map((seed) =>
			JSON.stringify(sampleAnswers(items, createRandom(seed)))
		);
		expect(new Set(others).size).toBeGreaterThan(15);
	});
});

describe('sampleStageResponse', () => {
	test('every stage type answers with a response the server accepts', () => {
		for (const type of STAGE_TYPES) {
			const stage = createStage(type, []);
			for (const seed of SEEDS.slice(0, 20)) {
				const response = sampleStageResponse(stage, createRandom(seed), 1234.6);
				expect(v.safeParse(StageResponseSchema, response).success).toBe(true);
				const expected =
					type === 'consent' || type === 'questionnaire' || type === 'group_choice'
						? type
						: 'continue';
				expect(response.type).toBe(expected);
				if (response.type === 'consent') expect(response.agreed).toBe(true);
				if (response.type === 'questionnaire') expect(response.rtMs).toBe(1235);
			}
		}
	});

	test('every questionnaire and group choice of the templates gets a valid answer', () => {
		let checked = 0;
		for (const template of STUDY_TEMPLATES) {
			for (const stage of template.create({ demoMediaId: 'demo' }).stages) {
				const contents = [stage.content, ...stage.variants.map((variant) => variant.content)];
				for (const content of contents) {
					const resolved = { ...stage, content } as typeof stage;
					const response = sampleStageResponse(resolved, createRandom(checked + 1));
					expect(v.safeParse(StageResponseSchema, response).success).toBe(true);
					if (resolved.type !== 'end') {
						const member = { role: null, condition: null };
						expect(validateStageResponse(resolved, member, response)).toEqual({
							ok: true,
							response
						});
					}
					if (resolved.type === 'questionnaire' && response.type === 'questionnaire') {
						expect(checkAnswers(resolved.content.items, response.answers).size).toBe(0);
						checked++;
					}
					if (resolved.type === 'group_choice' && response.type === 'group_choice') {
						const values = resolved.content.options.map((option) => option.value);
						expect(values).toContain(response.option);
						checked++;
					}
				}
			}
		}
		expect(checked).toBeGreaterThan(0);
	});
});
