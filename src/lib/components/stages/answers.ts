import type { QuestionItem } from '$lib/study';
import type { AnswerValue } from './responses';

/**
 * A questionnaire answer while it is being given: as `AnswerValue`, except that a number item
 * holds the text typed so far (it may not be a number yet). Pure: shared by the preview and the
 * live runtime.
 */
export type DraftAnswer = AnswerValue;

// Decimal notation only. Number() also reads "0x1f", "0b11" and "0o7", so a participant who
// typed one of those into the (plain text) number field would have a value recorded that they
// never saw; they are told to enter a number instead.
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

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

/** What is wrong with the answer to `item`, in words for the participant, or null. */
export function checkAnswer(item: QuestionItem, draft: DraftAnswer | undefined): string | null {
	if (isBlank(draft)) {
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
		case 'checkboxes': {
			const ticked = Array.isArray(draft) ? draft.length : 0;
			if (ticked < item.minSelected) return `Please tick at least ${item.minSelected} options.`;
			if (item.maxSelected !== null && ticked > item.maxSelected) {
				return item.maxSelected === 1
					? 'Please tick only one option.'
					: `Please tick at most ${item.maxSelected} options.`;
			}
			return null;
		}
		case 'number': {
			const value = parseNumberDraft(draft);
			// "1,5" (a decimal comma) and "1,000" (grouping) cannot be told apart, so neither is
			// guessed at: the participant is asked to write it unambiguously.
			if (String(draft).includes(',')) {
				return 'Please write the number without commas; use a point for decimals (3.5).';
			}
			if (!Number.isFinite(value)) return 'Please enter a number.';
			if (item.integer && !Number.isInteger(value)) return 'Please enter a whole number.';
			if (item.min !== null && item.max !== null && (value < item.min || value > item.max)) {
				return `Please enter a number from ${String(item.min)} to ${String(item.max)}.`;
			}
			if (item.min !== null && value < item.min) {
				return `Please enter a number of at least ${String(item.min)}.`;
			}
			if (item.max !== null && value > item.max) {
				return `Please enter a number of at most ${String(item.max)}.`;
			}
			return null;
		}
		case 'short_text':
		case 'long_text':
			return String(draft).length > item.maxLength
				? `Please shorten your answer to ${item.maxLength} characters.`
				: null;
		case 'likert':
		case 'choice':
		case 'slider':
			return null;
	}
}

/** Every item with a problem, by item id (the first problem of items sharing an id). */
export function checkAnswers(
	items: readonly QuestionItem[],
	drafts: Readonly<Record<string, DraftAnswer>>
): Map<string, string> {
	const errors = new Map<string, string>();
	for (const item of items) {
		const error = checkAnswer(item, drafts[item.id]);
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
		const draft = drafts[item.id];
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
