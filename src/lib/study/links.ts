import type { Outcome, StudySettings } from './schema';

/** The completion code and redirect of one outcome. */
export type OutcomeSettings = StudySettings['outcomes'][Outcome];

/**
 * The links an experimenter hands out and the places participants are sent at the end. Pure:
 * the dashboard shows them, the runtime follows them.
 */

/** The participant-facing link of a published study: `https://lab.example/s/<slug>`. */
export function studyLink(origin: string, slug: string): string {
	return `${origin.replace(/\/+$/, '')}/s/${encodeURIComponent(slug)}`;
}

/**
 * The study link as pasted into Prolific. Prolific replaces the `{{%…%}}` placeholders itself, so
 * the braces must stay unencoded; the runtime captures the three ids when `settings.prolific` is on.
 */
export function prolificStudyLink(link: string): string {
	const separator = link.includes('?') ? '&' : '?';
	return `${link}${separator}PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}`;
}

/** Where Prolific expects a participant with completion code `code` to land. */
export function prolificCompletionUrl(code: string): string {
	return `https://app.prolific.com/submissions/complete?cc=${encodeURIComponent(code.trim())}`;
}

/**
 * Where a participant with this outcome goes at the end: the explicit redirect if one is set,
 * else Prolific's completion page when there is a completion code, else nowhere (null: they stay
 * on the thank-you page).
 */
export function completionUrlFor(outcome: OutcomeSettings): string | null {
	const redirect = outcome.redirectUrl.trim();
	if (redirect !== '') return redirect;
	const code = outcome.completionCode.trim();
	return code === '' ? null : prolificCompletionUrl(code);
}

/**
 * The study-link parameters the study lists as safe to show without the data permission (none
 * when the setting is absent, as in definitions written before it existed).
 */
export function listSafeLinkParameters(
	settings: Pick<StudySettings, 'safeLinkParameters'>
): string[] {
	// Stored definitions were checked when saved; a stray value still must not widen anything.
	const list: unknown = settings.safeLinkParameters;
	return Array.isArray(list) ? list.filter((name): name is string => typeof name === 'string') : [];
}

/**
 * Parses what an experimenter types into the safe-parameters field: names separated by commas,
 * spaces or line breaks, each once, in the order typed.
 */
export function parseLinkParameterList(text: string): string[] {
	return [...new Set(text.split(/[\s,]+/).filter((name) => name !== ''))];
}
