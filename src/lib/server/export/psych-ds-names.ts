/**
 * File names in the Psych-DS bundle. Psych-DS data files are `key-value` keywords joined by
 * `_` and ending in `_data.csv`; BIDS labels (`sub-<label>`, `task-<label>`) follow the same
 * rule. Values may hold only letters and digits, so ids like `video-1` lose their punctuation,
 * and a label two ids would share gets a number.
 */

/**
 * `data/study-<x>_description-<dataset>_data.csv`: `study` and `description` are official
 * Psych-DS keywords, so the validator has nothing to warn about.
 */
export function nameDataFile(studyLabel: string, dataset: string): string {
	return `data/study-${studyLabel}_description-${toKeywordValue(dataset)}_data.csv`;
}

/** `data/sub-<p>/sub-<p>_task-<stage>_events.tsv`. */
export function nameEventsFile(participantLabel: string, taskLabel: string): string {
	return `data/sub-${participantLabel}/sub-${participantLabel}_task-${taskLabel}_events.tsv`;
}

/** Letters and digits only; `x` when nothing is left. */
export function toKeywordValue(id: string): string {
	const cleaned = id.replace(/[^A-Za-z0-9]/g, '');
	return cleaned === '' ? 'x' : cleaned;
}

/**
 * Gives each id a keyword value that no other id of the same kind has: the cleaned id, or the
 * cleaned id plus a number when another id already cleaned to it. Ask in a stable order to
 * get stable names.
 */
export class KeywordLabels {
	readonly #byId = new Map<string, string>();
	readonly #taken = new Set<string>();

	/** The id's label, assigned on first use. */
	labelOf(id: string): string {
		const known = this.#byId.get(id);
		if (known) return known;
		const base = toKeywordValue(id);
		let label = base;
		for (let suffix = 2; this.#taken.has(label); suffix++) label = `${base}${suffix}`;
		this.#byId.set(id, label);
		this.#taken.add(label);
		return label;
	}
}
