/**
 * The study designer's client state: the draft being edited (deep `$state`, bound straight into
 * the forms), its publish issues computed in the browser, undo and the stage operations; saving
 * is delegated to a {@link DraftAutosave} it owns. Create one per editor page, in the browser
 * component that owns the page, and hand it down with {@link setStudyEditor}; never keep it in a
 * module, where it would outlive the page.
 */
import { createContext, untrack } from 'svelte';
import {
	createStage,
	createUniqueId,
	validateStudy,
	type Stage,
	type StageType,
	type StudyDefinition,
	type StudyIssue,
	type ValidationContext
} from '$lib/study';
import { DraftAutosave, type FetchLike } from './draft-autosave.svelte';
import type { SaveState } from './draft-save';
import type { Timers } from './timers';
import { findChangedPath, UndoHistory } from './undo-history';

export type { FetchLike } from './draft-autosave.svelte';
export type { SaveState } from './draft-save';

/** Which part of the study the centre pane shows: the settings or one stage. */
export type Selection = { kind: 'settings' } | { kind: 'stage'; index: number };

export type StudyEditorOptions = {
	studyId: string;
	definition: StudyDefinition;
	revision: number;
	/** No autosave and no changes: a viewer or a view-only share. */
	readonly: boolean;
	context: ValidationContext;
	fetch?: FetchLike;
	timers?: Timers;
	now?: () => number;
};

/** A deep copy of plain JSON data; unlike structuredClone it accepts `$state` proxies. */
function cloneJson<T>(value: T): T {
	return JSON.parse(JSON.stringify(value)) as T;
}

/** Issues under a path prefix (`stages.2`) — the prefix itself or anything below it. */
export function isIssueUnder(issue: StudyIssue, prefix: string): boolean {
	return issue.path === prefix || issue.path.startsWith(`${prefix}.`);
}

export class StudyEditor {
	readonly studyId: string;
	readonly readonly: boolean;
	#definition = $state() as StudyDefinition;
	#selection = $state<Selection>({ kind: 'settings' });
	#context: ValidationContext;
	#issues = $derived.by(() => {
		const result = validateStudy(this.#definition, this.#context);
		return result.ok ? [] : result.issues;
	});

	// What the page shows, as canonical-enough JSON (same key order as the saved copy).
	#currentJson = $state('');
	#lastSnapshot: StudyDefinition;

	readonly #history = new UndoHistory<StudyDefinition>();
	#historyVersion = $state(0);
	#structuralChanges = 0;

	readonly #now: () => number;
	readonly #autosave: DraftAutosave;

	constructor(options: StudyEditorOptions) {
		this.studyId = options.studyId;
		this.readonly = options.readonly;
		this.#context = options.context;
		this.#now = options.now ?? Date.now;
		this.#lastSnapshot = this.#load(options.definition);
		this.#autosave = new DraftAutosave({
			studyId: options.studyId,
			revision: options.revision,
			savedJson: this.#currentJson,
			readonly: options.readonly,
			readDraft: () => ({ json: this.#currentJson, definition: this.#lastSnapshot }),
			fetch: options.fetch,
			timers: options.timers
		});
		if (this.#definition.stages.length > 0) this.#selection = { kind: 'stage', index: 0 };

		// Every edit anywhere in the draft (forms bind straight into it) lands here once per tick.
		$effect(() => {
			const json = JSON.stringify(this.#definition);
			untrack(() => this.#observe(json));
		});
		$effect(() => () => this.destroy());
	}

	get definition(): StudyDefinition {
		return this.#definition;
	}
	get revision(): number {
		return this.#autosave.revision;
	}
	get selection(): Selection {
		return this.#selection;
	}
	/** The selected stage, or undefined when the settings are shown. */
	get selectedStage(): Stage | undefined {
		const selection = this.#selection;
		return selection.kind === 'stage' ? this.#definition.stages[selection.index] : undefined;
	}
	/** Shape and publish problems of the draft, as the server would report them. */
	get issues(): StudyIssue[] {
		return this.#issues;
	}
	get hasUnsavedChanges(): boolean {
		return this.#autosave.hasUnsavedChanges;
	}
	get saveState(): SaveState {
		return this.#autosave.state;
	}
	/** What the save indicator says. */
	get saveMessage(): string {
		return this.#autosave.message;
	}
	get canUndo(): boolean {
		void this.#historyVersion;
		return !this.readonly && this.#history.canUndo;
	}
	get canRedo(): boolean {
		void this.#historyVersion;
		return !this.readonly && this.#history.canRedo;
	}

	/** Issues at or below `prefix` (a stage: `stages.3`; a field: `settings.title`). */
	issuesUnder(prefix: string): StudyIssue[] {
		return this.#issues.filter((issue) => isIssueUnder(issue, prefix));
	}
	/** The first message for exactly this path, for a field's inline error. */
	issueAt(path: string): string | undefined {
		return this.#issues.find((issue) => issue.path === path)?.message;
	}

	select(selection: Selection): void {
		this.#selection = selection;
	}

	// --- Structural changes: one undo step each -----------------------------------------------

	/**
	 * Applies `change` to the draft as one undo step of its own (adding a role, switching the
	 * session mode), never merged with typing before or after it.
	 */
	change(change: (definition: StudyDefinition) => void): void {
		if (this.readonly) return;
		const before = this.#lastSnapshot;
		change(this.#definition);
		const json = JSON.stringify(this.#definition);
		if (json === this.#currentJson) return;
		this.#history.record(before, `structure:${++this.#structuralChanges}`, this.#now());
		this.#history.seal();
		this.#accept(json);
	}

	/** Adds a stage after the selected one (never after the end stage) and selects it. */
	addStage(type: StageType): void {
		const stages = this.#definition.stages;
		const selected = this.#selection.kind === 'stage' ? this.#selection.index : stages.length - 1;
		let index = Math.min(selected + 1, stages.length);
		const endIndex = stages.findIndex((stage) => stage.type === 'end');
		if (type !== 'end' && endIndex !== -1 && index > endIndex) index = endIndex;
		this.change((definition) => {
			const stage = createStage(
				type,
				definition.stages.map((s) => s.id)
			);
			definition.stages.splice(index, 0, stage);
		});
		this.#selection = { kind: 'stage', index };
	}

	/** Inserts a copy of stage `index` right after it, with a fresh id, and selects it. */
	duplicateStage(index: number): void {
		const original = this.#definition.stages[index];
		if (!original) return;
		this.change((definition) => {
			const copy = $state.snapshot(original) as Stage;
			copy.id = createUniqueId(
				original.id,
				definition.stages.map((s) => s.id)
			);
			copy.title = `${original.title} (copy)`.slice(0, 200);
			definition.stages.splice(index + 1, 0, copy);
		});
		this.#selection = { kind: 'stage', index: index + 1 };
	}

	deleteStage(index: number): void {
		if (!this.#definition.stages[index]) return;
		this.change((definition) => void definition.stages.splice(index, 1));
		this.#clampSelection();
	}

	/** Moves a stage from one position to another; the selection follows a moved selected stage. */
	moveStage(from: number, to: number): void {
		const stages = this.#definition.stages;
		if (from === to || !stages[from] || to < 0 || to >= stages.length) return;
		const selected = this.#selection;
		this.change((definition) => {
			const [stage] = definition.stages.splice(from, 1);
			if (stage) definition.stages.splice(to, 0, stage);
		});
		if (selected.kind === 'stage') {
			const index = selected.index;
			const next =
				index === from
					? to
					: from < index && index <= to
						? index - 1
						: to <= index && index < from
							? index + 1
							: index;
			this.#selection = { kind: 'stage', index: next };
		}
	}

	// --- Undo ------------------------------------------------------------------------------------

	undo(): void {
		if (this.readonly) return;
		const previous = this.#history.undo(this.#lastSnapshot);
		if (previous) this.#restore(previous);
	}

	redo(): void {
		if (this.readonly) return;
		const next = this.#history.redo(this.#lastSnapshot, this.#now());
		if (next) this.#restore(next);
	}

	// --- Saving ----------------------------------------------------------------------------------

	/**
	 * Replaces the draft with the server's copy (after a conflict, "Reload the latest version"):
	 * the local changes are dropped, the history forgotten and autosave resumes.
	 */
	reload(definition: StudyDefinition, revision: number): void {
		this.#history.clear();
		this.#historyVersion++;
		this.#lastSnapshot = this.#load(definition);
		this.#autosave.resume(this.#currentJson, revision);
		this.#clampSelection();
	}

	/** Saves now instead of after the debounce (a no-op while nothing changed). */
	saveNow(): Promise<void> {
		return this.#autosave.save();
	}

	/** Stops the timers; a save in flight still finishes but schedules nothing. */
	destroy(): void {
		this.#autosave.destroy();
	}

	/** Makes `definition` the draft; answers its snapshot (the caller keeps it as the last one). */
	#load(definition: StudyDefinition): StudyDefinition {
		this.#definition = cloneJson(definition);
		const json = JSON.stringify(this.#definition);
		this.#currentJson = json;
		return JSON.parse(json) as StudyDefinition;
	}

	/** Sees an edit made through a binding: one undo step per field being typed into. */
	#observe(json: string): void {
		if (json === this.#currentJson) return;
		const after = JSON.parse(json) as StudyDefinition;
		if (!this.readonly) {
			const key = findChangedPath(this.#lastSnapshot, after) ?? '';
			this.#history.record(this.#lastSnapshot, `edit:${key}`, this.#now());
		}
		this.#accept(json, after);
	}

	/** Takes `json` as the current draft: history flags, save state and the autosave timer. */
	#accept(json: string, snapshot = JSON.parse(json) as StudyDefinition): void {
		this.#lastSnapshot = snapshot;
		this.#currentJson = json;
		this.#historyVersion++;
		this.#autosave.schedule();
	}

	#restore(snapshot: StudyDefinition): void {
		this.#definition = cloneJson(snapshot);
		this.#lastSnapshot = snapshot;
		this.#currentJson = JSON.stringify(this.#definition);
		this.#historyVersion++;
		this.#clampSelection();
		this.#autosave.schedule();
	}

	#clampSelection(): void {
		const selection = this.#selection;
		const count = this.#definition.stages.length;
		if (selection.kind !== 'stage' || selection.index < count) return;
		this.#selection = count === 0 ? { kind: 'settings' } : { kind: 'stage', index: count - 1 };
	}
}

const [getContext, setContext] = createContext<StudyEditor>();

/** Makes `editor` available to the calling component's descendants. */
export function setStudyEditor(editor: StudyEditor): StudyEditor {
	return setContext(editor);
}

/** The editor of the nearest ancestor that called {@link setStudyEditor}. */
export function getStudyEditor(): StudyEditor {
	return getContext();
}
