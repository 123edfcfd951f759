/**
 * What a participant submits at the end of a stage, and the schema of its shape. The shape is
 * the trust boundary for answers from a browser, a bot or a socket; whether the answers fit the
 * stage is `validateStageResponse` (response-validation.ts). The stored shape is exactly this
 * (exports read it), so change it only together with the exports.
 */
import * as v from 'valibot';
import { storableText } from '../protocol/text';
import type { StageType } from './schema';

/** One questionnaire answer: a Likert point or a slider/number value, a choice's value, the
 * ticked values of a checkbox list, a text; null when an optional item was left unanswered. */
export type AnswerValue = number | string | string[] | null;

/**
 * What a participant submits at the end of a stage, keyed by `type`. Stages that only collect
 * "I am done" (instructions, end, a finished video, …) submit `continue`; live data that flows
 * during a stage (chat messages, ratings, A/V) travels separately and is not part of this.
 */
export type StageResponse =
	| { type: 'continue' }
	| { type: 'consent'; agreed: boolean }
	| {
			type: 'questionnaire';
			/** Every item's answer by item id, in the definition's order (not the shown order). */
			answers: Record<string, AnswerValue>;
			/** Milliseconds from the questions appearing to the submit. */
			rtMs: number;
	  }
	| { type: 'group_choice'; option: string };

/** The response each stage type submits. */
export type StageResponseFor<T extends StageType> = T extends 'consent'
	? Extract<StageResponse, { type: 'consent' }>
	: T extends 'questionnaire'
		? Extract<StageResponse, { type: 'questionnaire' }>
		: T extends 'group_choice'
			? Extract<StageResponse, { type: 'group_choice' }>
			: Extract<StageResponse, { type: 'continue' }>;

/**
 * The response type a stage collects, or null for a stage that takes none (the end). Group
 * choices are answered in a room with `group_choice.pick`, which may change its mind.
 */
export function expectedResponseType(type: StageType): StageResponse['type'] | null {
	switch (type) {
		case 'consent':
		case 'questionnaire':
		case 'group_choice':
			return type;
		case 'end':
			return null;
		default:
			return 'continue';
	}
}

// A day is far longer than any questionnaire; past it the clock, not the person, is wrong.
export const MAX_RESPONSE_TIME_MS = 86_400_000;
// As many as a questionnaire has items (the study schema allows 200).
const MAX_ANSWERS = 200;

const Text = (max: number) => v.pipe(v.string(), v.maxLength(max), storableText());

const AnswerValueSchema = v.union(
	[
		v.pipe(v.number(), v.finite()),
		Text(20_000),
		v.pipe(v.array(Text(200)), v.maxLength(200)),
		v.null()
	],
	'an answer is a number, a text, a list of option values or null'
);

const ItemKey = Text(100);

/**
 * Answers by item id. Not `v.record`: it silently drops the keys `constructor` and `prototype`,
 * which are valid item ids, so their answers would vanish and a required one could never be
 * given. Every own key is kept (`Object.fromEntries` defines them, so `__proto__` stays data).
 */
const AnswersSchema = v.pipe(
	v.custom<Record<string, unknown>>(
		(input) => typeof input === 'object' && input !== null && !Array.isArray(input),
		'answers must be an object of item ids to answers'
	),
	v.check(
		(answers) => Object.keys(answers).length <= MAX_ANSWERS,
		`at most ${MAX_ANSWERS} answers`
	),
	v.rawTransform(({ dataset, addIssue, NEVER }) => {
		const entries: [string, AnswerValue][] = [];
		for (const [key, value] of Object.entries(dataset.value)) {
			const id = v.safeParse(ItemKey, key);
			const answer = v.safeParse(AnswerValueSchema, value);
			const problem = !id.success ? id.issues[0] : !answer.success ? answer.issues[0] : null;
			if (problem) {
				addIssue({ message: `“${key.slice(0, 48)}”: ${problem.message}` });
				return NEVER;
			}
			entries.push([key, answer.output as AnswerValue]);
		}
		return Object.fromEntries(entries);
	})
);

/** A stage response as a browser, a bot or a socket sends it (its shape, not its fit). */
export const StageResponseSchema = v.variant(
	'type',
	[
		v.strictObject({ type: v.literal('continue') }),
		v.strictObject({ type: v.literal('consent'), agreed: v.boolean() }),
		v.strictObject({
			type: v.literal('questionnaire'),
			answers: AnswersSchema,
			rtMs: v.pipe(
				v.number('rtMs must be a number of milliseconds'),
				v.integer('rtMs must be a whole number of milliseconds'),
				v.minValue(0, 'rtMs must not be negative'),
				v.maxValue(MAX_RESPONSE_TIME_MS, `rtMs must be at most ${MAX_RESPONSE_TIME_MS}`)
			)
		}),
		v.strictObject({ type: v.literal('group_choice'), option: Text(200) })
	],
	'a response is an object whose type is continue, consent, questionnaire or group_choice'
) satisfies v.GenericSchema<unknown, StageResponse>;

export type ResponseShape = { ok: true; response: StageResponse } | { ok: false; message: string };

/** Checks the shape of a response; the message names where it is wrong. */
export function parseStageResponse(raw: unknown): ResponseShape {
	const parsed = v.safeParse(StageResponseSchema, raw);
	if (parsed.success) return { ok: true, response: parsed.output };
	const issue = parsed.issues[0];
	const path = (issue.path ?? [])
		.map((item) => String(item.key))
		.join('.')
		.slice(0, 120);
	return { ok: false, message: path === '' ? issue.message : `${path}: ${issue.message}` };
}

/** Parses the JSON text of a submitted response (a form field); null when it is not one. */
export function parseStageResponseText(text: string): StageResponse | null {
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch {
		return null;
	}
	const parsed = parseStageResponse(raw);
	return parsed.ok ? parsed.response : null;
}

/** A one-line description of a response, for the preview's "Submitted" note. */
export function summarizeResponse(response: StageResponse): string {
	switch (response.type) {
		case 'continue':
			return 'Continued.';
		case 'consent':
			return response.agreed ? 'Agreed to take part.' : 'Declined to take part.';
		case 'questionnaire': {
			const count = Object.values(response.answers).filter((value) => value !== null).length;
			const seconds = (response.rtMs / 1000).toFixed(1);
			return `${count} ${count === 1 ? 'answer' : 'answers'} after ${seconds} s.`;
		}
		case 'group_choice':
			return `Chose “${response.option}”.`;
	}
}
