import { describe, expect, test } from 'bun:test';
import {
	COALESCE_WINDOW_MS,
	findChangedPath,
	UndoHistory
} from '../../src/lib/client/undo-history';
import { createBlankStudy } from '../../src/lib/study';

/**
 * The designer's undo rules: typing into one field is one step, structural changes are one
 * step each, and the key of an edit is the path it touched.
 */

describe('UndoHistory', () => {
	test('changes to the same field within the window become one step', () => {
		const history = new UndoHistory<string>();
		history.record('', 'edit:settings.title', 0);
		history.record('a', 'edit:settings.title', 300);
		history.record('ab', 'edit:settings.title', 600);
		expect(history.size).toBe(1);
		expect(history.undo('abc')).toBe('');
		expect(history.canUndo).toBe(false);
	});

	test('the window slides with steady typing but a pause starts a new step', () => {
		const history = new UndoHistory<string>();
		let at = 0;
		let text = '';
		for (const letter of 'slow typing') {
			history.record(text, 'edit:title', at);
			text += letter;
			at += COALESCE_WINDOW_MS - 1;
		}
		expect(history.size).toBe(1);
		history.record(text, 'edit:title', at + COALESCE_WINDOW_MS);
		expect(history.size).toBe(2);
		expect(history.undo(`${text}!`)).toBe(text);
	});

	test('changes to another field are a new step even within the window', () => {
		const history = new UndoHistory<number>();
		history.record(1, 'edit:stages.0.title', 0);
		history.record(2, 'edit:stages.1.title', 10);
		expect(history.size).toBe(2);
		expect(history.undo(3)).toBe(2);
		expect(history.undo(2)).toBe(1);
		expect(history.undo(1)).toBeNull();
	});

	test('a sealed step is never extended by the next change', () => {
		const history = new UndoHistory<number>();
		history.record(1, 'edit:x', 0);
		history.seal();
		history.record(2, 'edit:x', 1);
		expect(history.size).toBe(2);
	});

	test('typing after an undo does not join the step before it', () => {
		const history = new UndoHistory<string>();
		history.record('a', 'edit:title', 0);
		history.record('b', 'edit:other', 10);
		expect(history.undo('c')).toBe('b');
		history.record('b', 'edit:title', 20);
		expect(history.size).toBe(2);
	});

	test('redo replays what undo took back, and a new change clears it', () => {
		const history = new UndoHistory<string>();
		history.record('one', 'structure:1', 0);
		history.record('two', 'structure:2', 1);
		expect(history.undo('three')).toBe('two');
		expect(history.canRedo).toBe(true);
		expect(history.redo('two', 2)).toBe('three');
		expect(history.undo('three')).toBe('two');
		history.record('two', 'edit:title', 3);
		expect(history.canRedo).toBe(false);
		expect(history.redo('x', 4)).toBeNull();
	});

	test('keeps at most `limit` steps, dropping the oldest', () => {
		const history = new UndoHistory<number>({ limit: 3 });
		for (let n = 0; n < 5; n++) history.record(n, `structure:${n}`, n);
		expect(history.size).toBe(3);
		expect([history.undo(5), history.undo(4), history.undo(3), history.undo(2)]).toEqual([
			4,
			3,
			2,
			null
		]);
	});
});

describe('findChangedPath', () => {
	test('names the deepest field that changed', () => {
		const before = createBlankStudy('A');
		const after = structuredClone(before);
		after.stages[1]!.title = 'Goodbye';
		expect(findChangedPath(before, after)).toBe('stages.1.title');
	});

	test('stops where more than one thing changed or an array changed length', () => {
		const before = createBlankStudy('A');
		const twoFields = structuredClone(before);
		twoFields.settings.title = 'B';
		twoFields.settings.description = 'C';
		expect(findChangedPath(before, twoFields)).toBe('settings');

		const added = structuredClone(before);
		added.settings.roles.push({ id: 'b', name: 'B', minCount: 0, maxCount: null });
		expect(findChangedPath(before, added)).toBe('settings.roles');

		const swapped = structuredClone(before);
		swapped.stages.reverse();
		expect(findChangedPath(before, swapped)).toBe('stages');
	});

	test('sees replaced objects, added keys and type changes; null when equal', () => {
		const before = createBlankStudy('A');
		expect(findChangedPath(before, structuredClone(before))).toBeNull();
		const session = structuredClone(before);
		session.settings.session = { mode: 'open', capacity: 4, participantsCreateRooms: false };
		expect(findChangedPath(before, session)).toBe('settings.session');
		expect(findChangedPath({ a: 1 }, { a: 1, b: 2 })).toBe('');
		expect(findChangedPath({ a: [1] }, { a: { 0: 1 } })).toBe('a');
		expect(findChangedPath(1, 2)).toBe('');
	});
});
