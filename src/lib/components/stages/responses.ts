import type { StageType } from '$lib/study';

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
