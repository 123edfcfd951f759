/**
 * The rules for one questionnaire answer, shared by the page (while a participant types, in
 * their words) and the server (`validateStageResponse`, for whatever a client sends): one set
 * of rules, so what the page accepts is exactly what is stored. Pure.
 */
import type { AnswerValue } from './responses';
import type { QuestionItem } from './schema';

/**
 * A questionnaire answer while it is being given: as `AnswerValue`, except that a number item
 * holds the text typed so far (it may not be a number yet).
 */
export type DraftAnswer = AnswerValue;

// Decimal notation only. Number() also reads "0x1f", "0b11" and "0o7", so a participant who
// typed one of those into the (plain text) number field would have a value recorded that they
// never saw; they are told to enter a number instead.
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

// A slider value is on a step when (value − min) / step is a whole number up to this much
// floating-point noise (0.1 + 0.2 is not 0.3).
const STEP_TOLERANCE = 1e-6;

/** The number typed into a number item, or NaN when it is not one written in decimals. */
function parseNumberDraft(draft: DraftAnswer | undefined): number {
	const text = String(draft).trim();
	return DECIMAL_NUMBER.test(text) ? Number(text) : Number.NaN;
}

function isBlank(draft: DraftAnswer | undefined): boolean {
	return (
		draft === undefined ||
		draft === null ||
		(typeof draft === 'string' && draft.trim() === '') ||
		(Array.isArray(draft) && draft.length === 0)
	);
}

/**
 * The answer stored under `id`, own properties only: an item called `constructor` must not
 * read `Object.prototype.constructor` as its answer.
 */
export function readAnswer<T>(answers: Readonly<Record<string, T>>, id: string): T | undefined {
	return Object.hasOwn(answers, id) ? answers[id] : undefined;
}

function describeRange(min: number, max: number): string {
	return `from ${String(min)} to ${String(max)}`;
}

function checkCheckboxes(
	item: Extract<QuestionItem, { kind: 'checkboxes' }>,
	draft: DraftAnswer
): string | null {
	const ticked = Array.isArray(draft) ? draft : [];
	const values = new Set(item.options.map((option) => option.value));
	if (!Array.isArray(draft) || ticked.some((value) => !values.has(value))) {
		return 'Please tick only the options shown.';
	}
	if (new Set(ticked).size !== ticked.length) return 'Please tick each option at most once.';
	if (ticked.length < item.minSelected) return `Please tick at least ${item.minSelected} options.`;
	if (item.maxSelected !== null && ticked.length > item.maxSelected) {
		return item.maxSelected === 1
			? 'Please tick only one option.'
			: `Please tick at most ${item.maxSelected} options.`;
	}
	return null;
}

function checkNumber(
	item: Extract<QuestionItem, { kind: 'number' }>,
	draft: DraftAnswer
): string | null {
	const value = parseNumberDraft(draft);
	// "1,5" (a decimal comma) and "1,000" (grouping) cannot be told apart, so neither is
	// guessed at: the participant is asked to write it unambiguously.
	if (String(draft).includes(',')) {
		return 'Please write the number without commas; use a point for decimals (3.5).';
	}
	if (!Number.isFinite(value)) return 'Please enter a number.';
	if (item.integer && !Number.isInteger(value)) return 'Please enter a whole number.';
	if (item.min !== null && item.max !== null && (value < item.min || value > item.max)) {
		return `Please enter a number ${describeRange(item.min, item.max)}.`;
	}
	if (item.min !== null && value < item.min) {
		return `Please enter a number of at least ${String(item.min)}.`;
	}
	if (item.max !== null && value > item.max) {
		return `Please enter a number of at most ${String(item.max)}.`;
	}
	return null;
}

function checkSlider(
	item: Extract<QuestionItem, { kind: 'slider' }>,
	draft: DraftAnswer
): string | null {
	if (typeof draft !== 'number' || !Number.isFinite(draft)) {
		return 'Please move the slider to give your answer.';
	}
	if (draft < item.min || draft > item.max) {
		return `Please give a value ${describeRange(item.min, item.max)}.`;
	}
	const steps = (draft - item.min) / item.step;
	if (Math.abs(steps - Math.round(steps)) > STEP_TOLERANCE) {
		return `Please give a value on the slider's steps of ${String(item.step)}.`;
	}
	return null;
}

/** What is wrong with the answer to `item`, in words for the participant, or null. */
export function checkAnswer(item: QuestionItem, draft: DraftAnswer | undefined): string | null {
	if (draft === undefined || isBlank(draft)) {
		if (!item.required) return null;
		if (item.kind === 'checkboxes') {
			const least = Math.max(1, item.minSelected);
			return least === 1
				? 'Please tick at least one option.'
				: `Please tick at least ${least} options.`;
		}
		return item.kind === 'slider'
			? 'Please move the slider to give your answer.'
			: 'Please answer this question.';
	}
	switch (item.kind) {
		case 'likert':
			return Number.isInteger(draft) && (draft as number) >= 1 && (draft as number) <= item.points
				? null
				: `Please choose a point from 1 to ${item.points}.`;
		case 'choice':
			return item.options.some((option) => option.value === draft)
				? null
				: 'Please choose one of the options shown.';
		case 'checkboxes':
			return checkCheckboxes(item, draft);
		case 'slider':
			return checkSlider(item, draft);
		case 'number':
			return checkNumber(item, draft);
		case 'short_text':
		case 'long_text':
			return String(draft).length > item.maxLength
				? `Please shorten your answer to ${item.maxLength} characters.`
				: null;
	}
}

/** The JSON type each kind of item stores, for answers that did not come from the page. */
const STORED_TYPE: Record<QuestionItem['kind'], 'number' | 'string' | 'list'> = {
	likert: 'number',
	slider: 'number',
	number: 'number',
	choice: 'string',
	short_text: 'string',
	long_text: 'string',
	checkboxes: 'list'
};

const TYPE_PROBLEM = {
	number: 'This question takes a number.',
	string: 'This question takes a text.',
	list: 'This question takes a list of option values.'
} as const;

/**
 * What is wrong with a submitted answer (not a draft): its JSON type must be the one the item
 * stores (a number item's answer is a number, not the text typed), then {@link checkAnswer}.
 */
export function checkSubmittedAnswer(
	item: QuestionItem,
	value: AnswerValue | undefined
): string | null {
	if (value !== undefined && value !== null) {
		const expected = STORED_TYPE[item.kind];
		const actual = Array.isArray(value) ? 'list' : typeof value;
		if (actual !== expected) return TYPE_PROBLEM[expected];
	}
	return checkAnswer(item, value);
}

/** Every item with a problem, by item id (the first problem of items sharing an id). */
export function checkAnswers(
	items: readonly QuestionItem[],
	drafts: Readonly<Record<string, DraftAnswer>>
): Map<string, string> {
	const errors = new Map<string, string>();
	for (const item of items) {
		const error = checkAnswer(item, readAnswer(drafts, item.id));
		if (error !== null && !errors.has(item.id)) errors.set(item.id, error);
	}
	return errors;
}

/** The submitted answers: one per item, in definition order; numbers parsed, blanks null. */
export function collectAnswers(
	items: readonly QuestionItem[],
	drafts: Readonly<Record<string, DraftAnswer>>
): Record<string, AnswerValue> {
	const answers: Record<string, AnswerValue> = {};
	for (const item of items) {
		const draft = readAnswer(drafts, item.id);
		if (isBlank(draft)) answers[item.id] = null;
		else if (item.kind === 'number') answers[item.id] = parseNumberDraft(draft);
		else if (item.kind === 'short_text' || item.kind === 'long_text') {
			answers[item.id] = String(draft).trim();
		} else answers[item.id] = Array.isArray(draft) ? [...draft] : (draft ?? null);
	}
	return answers;
}

/** A copy of `items` in a random order (Fisher–Yates), for "randomize item order". */
export function shuffleItems<T>(items: readonly T[], random: () => number = Math.random): T[] {
	const copy = [...items];
	for (let index = copy.length - 1; index > 0; index--) {
		const other = Math.floor(random() * (index + 1));
		[copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
	}
	return copy;
}
