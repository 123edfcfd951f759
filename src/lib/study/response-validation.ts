/**
 * The one check of a submitted stage response against the stage it answers, used wherever an
 * answer enters: the pre-room path (a form action), the room reducer (`stage.submit` and
 * `group_choice.pick` over the socket) and, through the same per-item rules in answers.ts, the
 * page itself. Pure.
 */
import { checkSubmittedAnswer, readAnswer } from './answers';
import {
	expectedResponseType,
	parseStageResponse,
	type AnswerValue,
	type StageResponse
} from './responses';
import type { Stage } from './schema';
import { resolveStageContent, type VariantMember } from './variants';

/** Why a response was refused; stable words for code (the `rejected` reason of the protocol). */
export type ResponseRefusalReason =
	/** Not a response at all: a bare string, a missing field, `rtMs: -5`, an extra field. */
	| 'invalid_response'
	/** A response, but not the kind this stage collects (e.g. `continue` for a questionnaire). */
	| 'wrong_response'
	/** The stage takes no response (the end). */
	| 'not_submittable'
	/** Questionnaire answers that do not fit the items: see `issues`. */
	| 'invalid_answers'
	/** A group choice that is not one of the options the member was shown. */
	| 'invalid_option';

/** One questionnaire item with a problem (`itemId` may name an item the stage does not have). */
export type AnswerIssue = { itemId: string; message: string };

export type ResponseValidation =
	| { ok: true; response: StageResponse }
	| { ok: false; reason: ResponseRefusalReason; message: string; issues: AnswerIssue[] };

// A refusal names this many item problems in its message (all are in `issues`).
const ISSUES_IN_MESSAGE = 3;

function refuse(
	reason: ResponseRefusalReason,
	message: string,
	issues: AnswerIssue[] = []
): ResponseValidation {
	return { ok: false, reason, message, issues };
}

/** Every answer checked against its item, unknown items and missing required ones included. */
function listAnswerIssues(
	stage: Extract<Stage, { type: 'questionnaire' }>,
	answers: Readonly<Record<string, AnswerValue>>
): AnswerIssue[] {
	const items = stage.content.items;
	const known = new Set(items.map((item) => item.id));
	const issues: AnswerIssue[] = Object.keys(answers)
		.filter((id) => !known.has(id))
		.map((itemId) => ({ itemId, message: 'This stage has no such question.' }));
	const reported = new Set<string>();
	for (const item of items) {
		// Items sharing an id (a draft's mistake; publishing refuses it) report the first problem.
		if (reported.has(item.id)) continue;
		const message = checkSubmittedAnswer(item, readAnswer(answers, item.id));
		if (message === null) continue;
		reported.add(item.id);
		issues.push({ itemId: item.id, message });
	}
	return issues;
}

function describeIssues(issues: AnswerIssue[]): string {
	const shown = issues
		.slice(0, ISSUES_IN_MESSAGE)
		.map((issue) => `“${issue.itemId.slice(0, 48)}”: ${issue.message}`);
	const more =
		issues.length > ISSUES_IN_MESSAGE ? ` (and ${issues.length - ISSUES_IN_MESSAGE} more)` : '';
	const count =
		issues.length === 1 ? 'One answer does not fit' : `${issues.length} answers do not fit`;
	return `${count} the questions: ${shown.join(' ')}${more}`;
}

/**
 * Checks `raw` as `member`'s response to `stage`: its shape, the type the stage collects, and
 * for a questionnaire every answer against its item (points within the scale, choices among the
 * options this member was shown, checkbox counts and values, slider and number ranges, whole
 * numbers, text lengths, required items present, unknown items refused); for a group choice the
 * option among those shown. Variants are resolved here for `member` (a resolved stage resolves
 * to itself), so nobody can forget to. On success `response` is the parsed copy to store.
 */
export function validateStageResponse(
	stage: Stage,
	member: VariantMember,
	raw: unknown
): ResponseValidation {
	const parsed = parseStageResponse(raw);
	if (!parsed.ok) return refuse('invalid_response', `The response is not valid: ${parsed.message}`);
	const response = parsed.response;
	const expected = expectedResponseType(stage.type);
	if (expected === null) return refuse('not_submittable', 'This stage takes no answer.');
	if (response.type !== expected) {
		return refuse(
			'wrong_response',
			`This stage takes a “${expected}” response, not “${response.type}”.`
		);
	}
	const shown = resolveStageContent(stage, member);
	if (shown.type === 'questionnaire' && response.type === 'questionnaire') {
		const issues = listAnswerIssues(shown, response.answers);
		if (issues.length > 0) return refuse('invalid_answers', describeIssues(issues), issues);
	}
	if (shown.type === 'group_choice' && response.type === 'group_choice') {
		if (!shown.content.options.some((option) => option.value === response.option)) {
			return refuse('invalid_option', 'That is not one of the options.');
		}
	}
	return { ok: true, response };
}
