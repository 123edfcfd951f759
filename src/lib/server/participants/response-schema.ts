import * as v from 'valibot';
import { findUnstorableInJson } from '$lib/protocol/text';
import type { StageResponse } from '$lib/components/stages/responses';

const AnswerValueSchema = v.union([
	v.pipe(v.number(), v.finite()),
	v.pipe(v.string(), v.maxLength(20_000)),
	v.pipe(v.array(v.pipe(v.string(), v.maxLength(200))), v.maxLength(200)),
	v.null()
]);

/** A stage response as the browser sends it (the trust boundary for `StageResponse`). */
export const StageResponseSchema = v.variant('type', [
	v.object({ type: v.literal('continue') }),
	v.object({ type: v.literal('consent'), agreed: v.boolean() }),
	v.object({
		type: v.literal('questionnaire'),
		answers: v.record(v.pipe(v.string(), v.maxLength(100)), AnswerValueSchema),
		// A day is far longer than any questionnaire; past it the clock, not the person, is wrong.
		rtMs: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400_000))
	}),
	v.object({ type: v.literal('group_choice'), option: v.pipe(v.string(), v.maxLength(200)) })
]) satisfies v.GenericSchema<unknown, StageResponse>;

/** Parses the JSON text of a submitted response; null when it is not one or cannot be stored. */
export function parseStageResponse(text: string): StageResponse | null {
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch {
		return null;
	}
	// Escaped in the JSON text (`\u0000`), so the form field itself looked fine.
	if (findUnstorableInJson(raw)) return null;
	const parsed = v.safeParse(StageResponseSchema, raw);
	return parsed.success ? parsed.output : null;
}
