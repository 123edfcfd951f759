import * as v from 'valibot';
import { describeUnstorableText, findUnstorableText } from '../../protocol/text';

/** The parameters Prolific appends to a study link. */
export const PROLIFIC_PARAMS = ['PROLIFIC_PID', 'STUDY_ID', 'SESSION_ID'] as const;

/** `/s/<slug>?resume=<token>` moves a participant to another device; the caller redirects it away. */
export const RESUME_PARAM = 'resume';

/**
 * Bounds on what a link may carry. Parameters past them are dropped rather than refused: a
 * recruiting platform's odd extra parameter must not lock a participant out of the study.
 */
const MAX_PARAMS = 50;
const NameSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
const ValueSchema = v.pipe(v.string(), v.maxLength(500));

export type LinkParams = {
	/** The token of a resume link, unchecked; null when there is none. */
	resume: string | null;
	/** Prolific's ids, when the study captures them (empty otherwise). */
	external: { source: 'prolific'; name: string; value: string }[];
	/** Every other parameter, first value of each name, kept for the data. */
	other: Record<string, string>;
};

/**
 * Splits a study link's query into the resume token, Prolific's ids (only when
 * `captureProlific`; otherwise they are ordinary parameters) and the rest.
 */
export function parseLinkParams(
	input: URLSearchParams | Record<string, string>,
	captureProlific: boolean
): LinkParams {
	const entries = input instanceof URLSearchParams ? [...input.entries()] : Object.entries(input);
	const result: LinkParams = { resume: null, external: [], other: {} };
	const seen = new Set<string>();
	for (const [name, value] of entries) {
		if (seen.size >= MAX_PARAMS) break;
		if (seen.has(name) || !v.is(NameSchema, name) || !v.is(ValueSchema, value)) continue;
		seen.add(name);
		if (name === RESUME_PARAM) result.resume = value;
		else if (captureProlific && (PROLIFIC_PARAMS as readonly string[]).includes(name)) {
			if (value !== '') result.external.push({ source: 'prolific', name, value });
		} else result.other[name] = value;
	}
	return result;
}

/**
 * What is wrong with the first link parameter (name or value) that cannot be stored, or null.
 * Such a link is refused as a whole rather than trimmed: its parameters are research data, and
 * a participant kept without them would be a silent gap.
 */
export function findUnstorableLinkParam(
	input: URLSearchParams | Record<string, string>
): string | null {
	const entries = input instanceof URLSearchParams ? [...input.entries()] : Object.entries(input);
	for (const [name, value] of entries) {
		const problem = findUnstorableText(name) ?? findUnstorableText(value);
		if (problem)
			return `A parameter of this link cannot be used. ${describeUnstorableText(problem)}`;
	}
	return null;
}

/**
 * The link parameters fit to show to someone exporting: every parameter is identifying (an
 * `email`, a `workerId`, a SONA id…) unless the study lists it as safe, and identifying ones
 * are kept only when `includeIdentifying` (the data permission, asked for). Prolific's ids are
 * identifying whatever the list says. Null when nothing is left.
 */
export function selectShareableLinkParams(
	params: Record<string, string>,
	safeNames: ReadonlySet<string>,
	includeIdentifying: boolean
): Record<string, string> | null {
	const kept = Object.entries(params).filter(
		([name]) =>
			includeIdentifying ||
			(safeNames.has(name) && !(PROLIFIC_PARAMS as readonly string[]).includes(name))
	);
	return kept.length === 0 ? null : Object.fromEntries(kept);
}
