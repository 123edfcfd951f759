/** In-place list edits for the designer forms (they work on `$state` proxies, keeping undo simple). */

/**
 * Moves `list[index]` one place up (-1) or down (+1); does nothing at either end. Typed
 * `unknown[]` so a union of array types (a stage's variants) fits; items only change places.
 */
export function moveItem(list: unknown[], index: number, delta: -1 | 1): void {
	const target = index + delta;
	if (index < 0 || index >= list.length || target < 0 || target >= list.length) return;
	list.splice(target, 0, ...list.splice(index, 1));
}

/** Removes `list[index]`. */
export function removeItem(list: unknown[], index: number): void {
	list.splice(index, 1);
}

/** A value for a new option: the next free letter (a, b, c, …), then `option`, `option-2`, …. */
export function nextOptionValue(taken: readonly string[]): string {
	const used = new Set(taken);
	for (const letter of 'abcdefghijklmnopqrstuvwxyz') if (!used.has(letter)) return letter;
	for (let n = 1; ; n++) {
		const value = n === 1 ? 'option' : `option-${n}`;
		if (!used.has(value)) return value;
	}
}
