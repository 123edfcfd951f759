import { describe, expect, test } from 'bun:test';
import { checkAnswer, checkAnswers, collectAnswers, shuffleItems } from '../../src/lib/study';
import { createQuestionItem, type QuestionItem, type QuestionKind } from '../../src/lib/study';

/**
 * A questionnaire's answer rules, shared by the designer's preview and the live runtime: which
 * answers are accepted per kind of question, what is submitted, and how items are shuffled.
 */

/** A question of `kind` with the defaults the designer gives it, changed by `overrides`. */
function question<K extends QuestionKind>(
	kind: K,
	overrides: Partial<Extract<QuestionItem, { kind: K }>> = {}
): Extract<QuestionItem, { kind: K }> {
	return { ...createQuestionItem(kind, []), ...overrides } as Extract<QuestionItem, { kind: K }>;
}

/** A seeded random source (mulberry32), so a shuffle can be replayed. */
function seeded(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

describe('required questions', () => {
	test('a blank answer to a required question is refused, in words for its kind', () => {
		expect(checkAnswer(question('likert'), undefined)).toBe('Please answer this question.');
		expect(checkAnswer(question('choice'), null)).toBe('Please answer this question.');
		expect(checkAnswer(question('short_text'), '   ')).toBe('Please answer this question.');
		expect(checkAnswer(question('number'), '')).toBe('Please answer this question.');
		expect(checkAnswer(question('slider'), undefined)).toBe(
			'Please move the slider to give your answer.'
		);
		expect(checkAnswer(question('checkboxes'), [])).toBe('Please tick at least one option.');
		expect(checkAnswer(question('checkboxes', { minSelected: 2 }), [])).toBe(
			'Please tick at least 2 options.'
		);
	});

	test('an optional question may be left blank, whatever its limits', () => {
		const kinds = ['likert', 'choice', 'slider', 'number', 'short_text', 'long_text'] as const;
		for (const kind of kinds) {
			expect(checkAnswer(question(kind, { required: false }), undefined)).toBeNull();
		}
		const atLeastTwo = question('checkboxes', { required: false, minSelected: 2 });
		expect(checkAnswer(atLeastTwo, [])).toBeNull();
	});

	test('a likert point must be a whole point of the scale', () => {
		const seven = question('likert');
		expect(checkAnswer(seven, 1)).toBeNull();
		expect(checkAnswer(seven, 7)).toBeNull();
		for (const bad of [0, 8, 9999, 3.5, -1, '4']) {
			expect(checkAnswer(seven, bad as number)).toBe('Please choose a point from 1 to 7.');
		}
	});

	test('a choice must be one of the options shown', () => {
		expect(checkAnswer(question('choice'), 'b')).toBeNull();
		expect(checkAnswer(question('choice'), 'z')).toBe('Please choose one of the options shown.');
		expect(checkAnswer(question('choice'), ['a'])).toBe('Please choose one of the options shown.');
	});

	test('a slider value must be within its range and on a step', () => {
		const slider = question('slider', { min: -1, max: 1, step: 0.1 });
		expect(checkAnswer(slider, -1)).toBeNull();
		expect(checkAnswer(slider, 0.3)).toBeNull();
		expect(checkAnswer(slider, 0.1 + 0.2)).toBeNull();
		expect(checkAnswer(slider, 1)).toBeNull();
		expect(checkAnswer(slider, 1.1)).toBe('Please give a value from -1 to 1.');
		expect(checkAnswer(slider, 0.35)).toBe("Please give a value on the slider's steps of 0.1.");
		expect(checkAnswer(slider, '0.5')).toBe('Please move the slider to give your answer.');
	});
});

describe('number questions', () => {
	test('the answer must be a number, whole if the question says so', () => {
		const whole = question('number', { integer: true });
		const decimal = question('number', { integer: false });
		expect(checkAnswer(whole, 'twelve')).toBe('Please enter a number.');
		expect(checkAnswer(whole, '1.5')).toBe('Please enter a whole number.');
		expect(checkAnswer(whole, ' 12 ')).toBeNull();
		expect(checkAnswer(whole, 12)).toBeNull();
		expect(checkAnswer(decimal, '1.5')).toBeNull();
		expect(checkAnswer(decimal, '-.5')).toBeNull();
	});

	test('only decimal notation counts: hex, binary, octal and infinity are not numbers', () => {
		const any = question('number', { integer: false });
		for (const typed of ['0x10', '0b11', '0o7', 'Infinity', '1e999', '12abc']) {
			expect(checkAnswer(any, typed)).toBe('Please enter a number.');
		}
	});

	test('a comma is never guessed at ("1,5" or "1,000"): the participant is asked to rewrite it', () => {
		const any = question('number', { integer: false });
		for (const typed of ['1,5', '1,000', '3,5e2']) {
			expect(checkAnswer(any, typed)).toBe(
				'Please write the number without commas; use a point for decimals (3.5).'
			);
		}
	});

	test('bounds are inclusive and the message names the ones that exist', () => {
		const between = question('number', { min: 18, max: 99 });
		expect(checkAnswer(between, '17')).toBe('Please enter a number from 18 to 99.');
		expect(checkAnswer(between, '100')).toBe('Please enter a number from 18 to 99.');
		expect(checkAnswer(between, '18')).toBeNull();
		expect(checkAnswer(between, '99')).toBeNull();

		const atLeast = question('number', { min: 0, max: null });
		expect(checkAnswer(atLeast, '-1')).toBe('Please enter a number of at least 0.');
		expect(checkAnswer(atLeast, '1000000')).toBeNull();

		const atMost = question('number', { min: null, max: 10, integer: false });
		expect(checkAnswer(atMost, '10.5')).toBe('Please enter a number of at most 10.');
		expect(checkAnswer(atMost, '-1000')).toBeNull();
	});

	test('a number that is not whole is reported before one out of range', () => {
		const between = question('number', { min: 1, max: 5, integer: true });
		expect(checkAnswer(between, '7.5')).toBe('Please enter a whole number.');
	});
});

describe('checkbox questions', () => {
	const options = (values: string[]) => values.map((value) => ({ value, label: value }));
	const abcd = options(['a', 'b', 'c', 'd']);

	test('the number of ticks must be within the minimum and the maximum', () => {
		const twoToThree = question('checkboxes', { options: abcd, minSelected: 2, maxSelected: 3 });
		expect(checkAnswer(twoToThree, ['a'])).toBe('Please tick at least 2 options.');
		expect(checkAnswer(twoToThree, ['a', 'b'])).toBeNull();
		expect(checkAnswer(twoToThree, ['a', 'b', 'c'])).toBeNull();
		expect(checkAnswer(twoToThree, ['a', 'b', 'c', 'd'])).toBe('Please tick at most 3 options.');
	});

	test('a maximum of one says "only one"; no maximum allows any number', () => {
		expect(checkAnswer(question('checkboxes', { maxSelected: 1 }), ['a', 'b'])).toBe(
			'Please tick only one option.'
		);
		const ticks = Array.from({ length: 50 }, (_, index) => `o${index}`);
		const fifty = question('checkboxes', { options: options(ticks), maxSelected: null });
		expect(checkAnswer(fifty, ticks)).toBeNull();
	});

	test('only the options shown may be ticked, each once', () => {
		const item = question('checkboxes', { options: abcd });
		expect(checkAnswer(item, ['a', 'z'])).toBe('Please tick only the options shown.');
		expect(checkAnswer(item, 'a')).toBe('Please tick only the options shown.');
		expect(checkAnswer(item, ['a', 'a'])).toBe('Please tick each option at most once.');
	});

	test('an optional question that is answered must still respect its limits', () => {
		const optional = question('checkboxes', { required: false, minSelected: 2 });
		expect(checkAnswer(optional, ['a'])).toBe('Please tick at least 2 options.');
	});
});

describe('text questions', () => {
	test('an answer longer than the maximum length is refused; exactly the maximum is fine', () => {
		for (const kind of ['short_text', 'long_text'] as const) {
			const short = question(kind, { maxLength: 5 });
			expect(checkAnswer(short, 'abcde')).toBeNull();
			expect(checkAnswer(short, 'abcdef')).toBe('Please shorten your answer to 5 characters.');
		}
	});
});

describe('checking a whole questionnaire', () => {
	test('lists every item with a problem by id, and only those', () => {
		const items = [
			question('likert', { id: 'mood' }),
			question('number', { id: 'age', min: 18, max: 99 }),
			question('short_text', { id: 'name', required: false }),
			question('checkboxes', { id: 'pets', minSelected: 1 })
		];
		const errors = checkAnswers(items, { mood: 3, age: '12', pets: [] });
		expect([...errors]).toEqual([
			['age', 'Please enter a number from 18 to 99.'],
			['pets', 'Please tick at least one option.']
		]);
		expect(checkAnswers(items, { mood: 3, age: '30', pets: ['b'] }).size).toBe(0);
	});

	test('items sharing an id report the first problem', () => {
		const items = [question('likert', { id: 'q' }), question('number', { id: 'q', min: 5 })];
		expect(checkAnswers(items, { q: 3 }).get('q')).toBe('Please enter a number of at least 5.');
		expect(checkAnswers(items, {}).get('q')).toBe('Please answer this question.');
	});
});

describe('collecting the answers', () => {
	const items = [
		question('likert', { id: 'mood' }),
		question('number', { id: 'age', integer: false }),
		question('short_text', { id: 'name', required: false }),
		question('checkboxes', { id: 'pets' }),
		question('choice', { id: 'colour', required: false })
	];

	test('numbers are parsed, texts trimmed, blanks null, one entry per item in order', () => {
		const answers = collectAnswers(items, {
			mood: 5,
			age: ' 42.5 ',
			name: '  Ada  ',
			pets: ['cat', 'dog'],
			unknown: 'ignored'
		});
		expect(answers).toEqual({
			mood: 5,
			age: 42.5,
			name: 'Ada',
			pets: ['cat', 'dog'],
			colour: null
		});
		expect(Object.keys(answers)).toEqual(['mood', 'age', 'name', 'pets', 'colour']);
	});

	test('whitespace and empty lists are collected as unanswered', () => {
		const answers = collectAnswers(items, { name: '   ', pets: [], age: '' });
		expect(answers).toEqual({ mood: null, age: null, name: null, pets: null, colour: null });
	});

	test('the ticked options are copied, so later ticks do not change what was submitted', () => {
		const pets = ['cat'];
		const answers = collectAnswers(items, { pets });
		pets.push('dog');
		expect(answers.pets).toEqual(['cat']);
	});
});

describe('shuffling items', () => {
	const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

	test('keeps every item exactly once and leaves the original alone', () => {
		for (let seed = 1; seed <= 200; seed++) {
			const shuffled = shuffleItems(items, seeded(seed));
			expect(shuffled).toHaveLength(items.length);
			expect([...shuffled].sort()).toEqual(items);
		}
		expect(items).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
	});

	test('is the same for the same seed and differs between seeds', () => {
		expect(shuffleItems(items, seeded(7))).toEqual(shuffleItems(items, seeded(7)));
		const orders = new Set(
			Array.from({ length: 20 }, (_, seed) => shuffleItems(items, seeded(seed)).join(''))
		);
		expect(orders.size).toBeGreaterThan(15);
	});

	test('every order is about equally likely (a true Fisher–Yates, not a biased swap)', () => {
		const random = seeded(42);
		const counts = new Map<string, number>();
		const draws = 60_000;
		for (let draw = 0; draw < draws; draw++) {
			const order = shuffleItems(['x', 'y', 'z'], random).join('');
			counts.set(order, (counts.get(order) ?? 0) + 1);
		}
		expect(counts.size).toBe(6);
		// Each order expects 10 000 draws with a standard deviation near 91; 500 is over 5σ.
		for (const count of counts.values()) expect(Math.abs(count - draws / 6)).toBeLessThan(500);
	});

	test('stays in range when the random source returns values just below 1, and with 0', () => {
		for (const value of [0, 0.999_999_999]) {
			const shuffled = shuffleItems(items, () => value);
			expect([...shuffled].sort()).toEqual(items);
		}
	});

	test('an empty list and a single item come back as they are', () => {
		expect(shuffleItems([], seeded(1))).toEqual([]);
		expect(shuffleItems(['only'], seeded(1))).toEqual(['only']);
	});
});
