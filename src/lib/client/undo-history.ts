/**
 * The designer's undo history: snapshots of the study before each change. Pure (no Svelte), so
 * the coalescing rules are unit-tested; `StudyEditor` wraps it in runes.
 *
 * A change carries a key: the path it touched (`stages.2.title`) for edits, or a unique key for
 * structural changes. Consecutive changes with the same key close together in time become one
 * step, so typing a word undoes as one change while adding a stage is always its own step.
 */

/** Typing pauses shorter than this stay in the same undo step. */
export const COALESCE_WINDOW_MS = 1000;

/** Plenty for an editing session; the oldest steps fall off so memory stays bounded. */
export const DEFAULT_UNDO_LIMIT = 200;

type Step<T> = { before: T; key: string; at: number };

export class UndoHistory<T> {
	readonly #limit: number;
	readonly #window: number;
	#past: Step<T>[] = [];
	#future: T[] = [];

	constructor(options: { limit?: number; coalesceWindowMs?: number } = {}) {
		this.#limit = options.limit ?? DEFAULT_UNDO_LIMIT;
		this.#window = options.coalesceWindowMs ?? COALESCE_WINDOW_MS;
	}

	get canUndo(): boolean {
		return this.#past.length > 0;
	}

	get canRedo(): boolean {
		return this.#future.length > 0;
	}

	/** Number of undo steps available. */
	get size(): number {
		return this.#past.length;
	}

	/**
	 * Records that the state was `before` until a change with `key` at time `at`. Coalesces with
	 * the previous step when the key matches and the last change was within the window (the
	 * window slides: steady typing stays one step). Any new change clears the redo stack.
	 */
	record(before: T, key: string, at: number): void {
		this.#future = [];
		const last = this.#past.at(-1);
		if (last && last.key === key && at - last.at < this.#window) {
			last.at = at;
			return;
		}
		this.#past.push({ before, key, at });
		if (this.#past.length > this.#limit) this.#past.shift();
	}

	/** Ends the current step, so the next change starts a new one even with the same key. */
	seal(): void {
		const last = this.#past.at(-1);
		if (last) last.at = -Infinity;
	}

	/** The state before the last step, given the `current` one (kept for redo); null if none. */
	undo(current: T): T | null {
		const step = this.#past.pop();
		if (!step) return null;
		this.#future.push(current);
		// Typing after an undo starts a fresh step rather than joining the one before.
		this.seal();
		return step.before;
	}

	/** The state the last undo left, given the `current` one; null if there is nothing to redo. */
	redo(current: T, at: number): T | null {
		const next = this.#future.pop();
		if (next === undefined) return null;
		// Sealed at once: typing after a redo must not merge into the redone step.
		this.#past.push({ before: current, key: `redo:${at}`, at: -Infinity });
		return next;
	}

	/** Forgets everything (after loading another version of the study). */
	clear(): void {
		this.#past = [];
		this.#future = [];
	}
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The dotted path of the one place where `a` and `b` differ, as deep as it is unambiguous:
 * `stages.1.title` when only that title changed; `stages` when a stage was added, removed or
 * two stages changed; `''` for the root. Null when they are equal. Used as the undo key.
 */
export function findChangedPath(a: unknown, b: unknown, path = ''): string | null {
	if (Object.is(a, b)) return null;
	const join = (key: string | number) => (path === '' ? String(key) : `${path}.${key}`);
	if (Array.isArray(a) && Array.isArray(b)) {
		if (a.length !== b.length) return path;
		return findSingleDifference(
			a.map((_, index) => index),
			(index) => findChangedPath(a[index], b[index], join(index)),
			path
		);
	}
	if (isObject(a) && isObject(b)) {
		const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
		return findSingleDifference(
			[...keys],
			(key) => (key in a && key in b ? findChangedPath(a[key], b[key], join(key)) : path),
			path
		);
	}
	return path;
}

function findSingleDifference<K>(
	keys: K[],
	compare: (key: K) => string | null,
	path: string
): string | null {
	let found: string | null = null;
	for (const key of keys) {
		const changed = compare(key);
		if (changed === null) continue;
		if (found !== null) return path;
		found = changed;
	}
	return found;
}
