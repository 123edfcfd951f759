/**
 * The one rule for text that may reach storage, shared by every trust boundary (socket frames,
 * REST and form bodies, route and query parameters, study links, study definitions, file
 * names). Postgres refuses U+0000 in `text` and in `jsonb` strings, and an unpaired UTF-16
 * surrogate cannot be encoded as UTF-8: it would be refused by `jsonb` or silently turned into
 * U+FFFD, so what was acknowledged would not be what is stored. PGlite stores a leading U+FEFF
 * (byte order mark) but its driver drops it from every text value it reads back (its UTF-8
 * decoder strips a BOM), so such text would not read back as it was acknowledged either.
 * Everything else round-trips, on PGlite and on Postgres (tests/security/storable-text.test.ts
 * checks every code point).
 */
import * as v from 'valibot';

export type UnstorableText = 'nul' | 'lone_surrogate' | 'leading_bom';

/** Why `text` cannot be stored unchanged, or null when it can. */
export function findUnstorableText(text: string): UnstorableText | null {
	if (text.includes('\u0000')) return 'nul';
	if (!text.isWellFormed()) return 'lone_surrogate';
	if (text.charCodeAt(0) === 0xfeff) return 'leading_bom';
	return null;
}

/** Whether `text` can be stored and read back unchanged. */
export function isStorableText(text: string): boolean {
	return findUnstorableText(text) === null;
}

const PROBLEM_WORDS: Record<UnstorableText, string> = {
	nul: 'Text may not contain the NUL character (U+0000)',
	lone_surrogate: 'Text may not contain an unpaired UTF-16 surrogate',
	leading_bom: 'Text may not start with a byte order mark (U+FEFF)'
};

/** The message people see for text that breaks the rule. */
export function describeUnstorableText(problem: UnstorableText): string {
	return `${PROBLEM_WORDS[problem]}.`;
}

/** The valibot action for string schemas: `v.pipe(v.string(), storableText())`. */
export function storableText() {
	return v.check(
		(text: string) => isStorableText(text),
		(issue: v.CheckIssue<string>) =>
			describeUnstorableText(findUnstorableText(issue.input) ?? 'nul')
	);
}

/** A string schema that refuses text that cannot be stored. */
export const StorableString = v.pipe(v.string(), storableText());

export type UnstorableFinding = { path: string; problem: UnstorableText };

/**
 * The first string (value or object key) anywhere in a JSON-like value that cannot be stored,
 * with its dotted path (`payload.answers.q1`), or null. Walks at most `maxDepth` levels; deeper
 * values are left to the schemas, which bound nesting anyway.
 */
export function findUnstorableInJson(
	value: unknown,
	path = '',
	maxDepth = 64
): UnstorableFinding | null {
	if (typeof value === 'string') {
		const problem = findUnstorableText(value);
		return problem ? { path, problem } : null;
	}
	if (value === null || typeof value !== 'object' || maxDepth === 0) return null;
	const join = (key: string | number) => (path === '' ? String(key) : `${path}.${key}`);
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) {
			const found = findUnstorableInJson(value[i], join(i), maxDepth - 1);
			if (found) return found;
		}
		return null;
	}
	for (const [key, child] of Object.entries(value)) {
		const keyProblem = findUnstorableText(key);
		if (keyProblem) return { path: join('(key)'), problem: keyProblem };
		const found = findUnstorableInJson(child, join(key), maxDepth - 1);
		if (found) return found;
	}
	return null;
}

/** A sentence naming where unstorable text was found: for error frames and problem bodies. */
export function describeUnstorableFinding(finding: UnstorableFinding): string {
	const where = finding.path === '' ? '' : ` (at ${finding.path})`;
	return `${PROBLEM_WORDS[finding.problem]}${where}.`;
}

/**
 * The valibot action for JSON values stored as they are (socket payloads, request bodies, study
 * definitions): every string and object key anywhere in the value must be storable. The issue's
 * path points at the offending string (`payload` + `answers.q1`), its message says what is wrong
 * and never repeats the text.
 */
export function storableJson<T>() {
	return v.rawCheck<T>(({ dataset, addIssue }) => {
		if (!dataset.typed) return;
		const finding = findUnstorableInJson(dataset.value);
		if (!finding) return;
		addIssue({
			message: describeUnstorableText(finding.problem),
			path:
				finding.path === ''
					? undefined
					: [
							{
								type: 'unknown',
								origin: 'value',
								input: dataset.value,
								key: finding.path,
								value: undefined
							}
						]
		});
	});
}

/** Any JSON value whose every string and key is storable. */
export const StorableJson = v.pipe(v.unknown(), storableJson());
