import type { AnswerValue, StageResponse } from './responses';
import type { QuestionItem, Stage } from './schema';

/**
 * Valid random answers for simulated participants (bots, tests, benchmarks). Pure and seeded:
 * the same seed gives the same answers, so a pilot run or a failing test can be replayed.
 * Every answer passes `checkAnswer` and the server's `StageResponseSchema`.
 */

/** A random number generator in [0, 1), like `Math.random`. */
export type Random = () => number;

/**
 * A seeded generator (mulberry32): small, fast and good enough to spread answers; not for
 * anything secret.
 */
export function createRandom(seed: number): Random {
	let state = Math.trunc(seed) >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

/** A whole number from `min` to `max`, both included. */
export function pickInteger(random: Random, min: number, max: number): number {
	if (max <= min) return min;
	return min + Math.floor(random() * (max - min + 1));
}

/** One element of a non-empty list. */
export function pickOne<T>(random: Random, list: readonly T[]): T {
	return list[pickInteger(random, 0, list.length - 1)] as T;
}

// Optional items are sometimes skipped, as people do; required ones never.
const SKIP_OPTIONAL_PROBABILITY = 0.1;

const WORDS = ['yes', 'maybe', 'fine', 'good', 'calm', 'busy', 'happy', 'ok', 'tired', 'ready'];

/** Words joined by spaces, at most `maxLength` characters and at least one character. */
function sampleText(random: Random, maxLength: number, wanted: number): string {
	const limit = Math.max(1, Math.min(maxLength, wanted));
	let text = pickOne(random, WORDS);
	while (text.length < limit) {
		const next = `${text} ${pickOne(random, WORDS)}`;
		if (next.length > limit || random() < 0.3) break;
		text = next;
	}
	return text.slice(0, limit);
}

/** Decimals of a number as written (0.25 → 2), to round away floating-point noise. */
function countDecimals(value: number): number {
	const text = String(value);
	if (text.includes('e-')) return Number(text.split('e-')[1]);
	return text.includes('.') ? (text.split('.')[1]?.length ?? 0) : 0;
}

function sampleSlider(random: Random, item: Extract<QuestionItem, { kind: 'slider' }>): number {
	if (item.max <= item.min) return item.min;
	const steps = Math.floor((item.max - item.min) / item.step + 1e-9);
	const digits = Math.min(12, Math.max(countDecimals(item.min), countDecimals(item.step)));
	const value = Number((item.min + pickInteger(random, 0, steps) * item.step).toFixed(digits));
	return Math.min(item.max, Math.max(item.min, value));
}

function sampleNumber(random: Random, item: Extract<QuestionItem, { kind: 'number' }>): number {
	// An open bound gets a plausible range of 100 next to the other one.
	const low = item.min ?? (item.max !== null ? item.max - 100 : 0);
	const high = Math.max(low, item.max ?? low + 100);
	if (item.integer) {
		const first = Math.ceil(low);
		const last = Math.floor(high);
		// No whole number in range (e.g. 0.2–0.8): an invalid study; the nearest bound it is.
		return last < first ? first : pickInteger(random, first, last);
	}
	const value = Math.round((low + random() * (high - low)) * 100) / 100;
	return Math.min(high, Math.max(low, value));
}

/** A valid answer to one questionnaire item (null only for an optional item left out). */
export function sampleAnswer(item: QuestionItem, random: Random): AnswerValue {
	if (!item.required && random() < SKIP_OPTIONAL_PROBABILITY) return null;
	switch (item.kind) {
		case 'likert':
			return pickInteger(random, 1, Math.max(1, Math.floor(item.points)));
		case 'choice':
			return item.options.length > 0 ? pickOne(random, item.options).value : null;
		case 'checkboxes': {
			const values = item.options.map((option) => option.value);
			const least = Math.min(values.length, Math.max(item.minSelected, item.required ? 1 : 0));
			const most = Math.max(least, Math.min(values.length, item.maxSelected ?? values.length));
			const count = pickInteger(random, least, most);
			const shuffled = [...values];
			for (let index = shuffled.length - 1; index > 0; index--) {
				const other = pickInteger(random, 0, index);
				[shuffled[index], shuffled[other]] = [shuffled[other]!, shuffled[index]!];
			}
			// Ticked options keep the list's order, as the page reports them.
			const ticked = new Set(shuffled.slice(0, count));
			const answer = values.filter((value) => ticked.has(value));
			return answer.length > 0 ? answer : null;
		}
		case 'slider':
			return sampleSlider(random, item);
		case 'number':
			return sampleNumber(random, item);
		case 'short_text':
			return sampleText(random, item.maxLength, 40);
		case 'long_text':
			return sampleText(random, item.maxLength, 200);
	}
}

/** Every item's answer by item id, in the definition's order. */
export function sampleAnswers(
	items: readonly QuestionItem[],
	random: Random
): Record<string, AnswerValue> {
	const answers: Record<string, AnswerValue> = {};
	for (const item of items) {
		if (!(item.id in answers)) answers[item.id] = sampleAnswer(item, random);
	}
	return answers;
}

/**
 * The response a participant submits at the end of `stage` (content already resolved for
 * their role and condition). Consent is always given: a bot that declines tests nothing.
 * A group choice answers `group_choice` with one of the options (in a room it is sent as
 * `group_choice.pick`). `rtMs` is the caller's think time.
 */
export function sampleStageResponse(stage: Stage, random: Random, rtMs = 0): StageResponse {
	switch (stage.type) {
		case 'consent':
			return { type: 'consent', agreed: true };
		case 'questionnaire':
			return {
				type: 'questionnaire',
				answers: sampleAnswers(stage.content.items, random),
				rtMs: Math.max(0, Math.min(86_400_000, Math.round(rtMs)))
			};
		case 'group_choice':
			return stage.content.options.length > 0
				? { type: 'group_choice', option: pickOne(random, stage.content.options).value }
				: { type: 'continue' };
		default:
			return { type: 'continue' };
	}
}
