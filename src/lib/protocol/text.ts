/**
 * The one rule for text that may reach storage, shared by every trust boundary (socket frames,
 * REST and form bodies, route and query parameters, study links, study definitions, file
 * names). Postgres refuses U+0000 in `text` and in `jsonb` strings, and an unpaired UTF-16
 * surrogate cannot be encoded as UTF-8: it would be refused by `jsonb` or silently turned into
 * U+FFFD, so what was acknowledged would not be what is stored. Everything else round-trips.
 */
import * as v from 'valibot';

export type UnstorableText = 'nul' | 'lone_surrogate';

/** Why `text` cannot be stored unchanged, or null when it can. */
export function findUnstorableText(text: string): UnstorableText | null {
	if (text.includes('\u0000')) return 'nul';
	if (!text.isWellFormed()) return 'lone_surrogate';
	return null;
}

/** Whether `text` can be stored and read back unchanged. */
export function isStorableText(text: string): boolean {
	return findUnstorableText(text) === null;
}

const PROBLEM_WORDS: Record<UnstorableText, string> = {
	nul: 'the NUL character (U+0000)',
	lone_surrogate: 'an unpaired UTF-16 surrogate'
};

/** The message people see for text that breaks the rule. */
export function describeUnstorableText(problem: UnstorableText): string {
	return `Text may not contain ${PROBLEM_WORDS[problem]}.`;
}

/** The valibot action for string schemas: `v.pipe(v.string(), storableText())`. */
export function storableText() {
	return v.check(isStorableText, (issue: v.CheckIssue<string>) =>
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
	return `Text may not contain ${PROBLEM_WORDS[finding.problem]}${where}.`;
}
