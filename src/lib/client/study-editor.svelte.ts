/**
 * The study designer's client state: the draft being edited (deep `$state`, bound straight into
 * the forms), its publish issues computed in the browser, autosave and undo. Create one per
 * editor page, in the browser component that owns the page, and hand it down with
 * {@link setStudyEditor}; never keep it in a module, where it would outlive the page.
 */
import { createContext, untrack } from 'svelte';
import {
	createStage,
	createUniqueId,
	parseStudyDefinition,
	validateStudy,
	type Stage,
	type StageType,
	type StudyDefinition,
	type StudyIssue,
	type ValidationContext
} from '$lib/study';
import { computeBackoffDelay } from './backoff';
import { systemTimers, TimerSlot, type Timers } from './timers';
import { findChangedPath, UndoHistory } from './undo-history';

export type SaveState = 'saved' | 'unsaved' | 'saving' | 'error' | 'conflict';

/** Which part of the study the centre pane shows: the settings or one stage. */
export type Selection = { kind: 'settings' } | { kind: 'stage'; index: number };

/** The part of `fetch` autosave uses (tests pass a fake). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

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

// Long enough that a typed word is one request, short enough that closing the tab a second
// after typing rarely loses anything (and the page warns before leaving anyway).
const AUTOSAVE_DEBOUNCE_MS = 800;
// Retries after network errors: quick first, then no more than every 30 s.
const RETRY_BACKOFF = { baseMs: 1000, capMs: 30_000 };

type SaveOutcome =
	| { kind: 'saved'; revision: number }
	| { kind: 'conflict' }
	| { kind: 'refused'; message: string }
	| { kind: 'unreachable'; message: string };

/** Maps the `PUT /api/studies/<id>` answer to what autosave does next. */
async function readSaveResponse(response: Response): Promise<SaveOutcome> {
	const body = (await response.json().catch(() => null)) as {
		revision?: unknown;
		message?: unknown;
	} | null;
	if (response.ok && typeof body?.revision === 'number') {
		return { kind: 'saved', revision: body.revision };
	}
	if (response.status === 409) return { kind: 'conflict' };
	const message = typeof body?.message === 'string' ? body.message : `error ${response.status}`;
	// 5xx and proxies timing out are worth retrying; other 4xx answers will not change.
	if (response.status >= 500 || response.status === 408 || response.status === 429) {
		return { kind: 'unreachable', message };
	}
	return { kind: 'refused', message };
}

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
	#revision = $state(0);
	#selection = $state<Selection>({ kind: 'settings' });
	#context: ValidationContext;
	#issues = $derived.by(() => {
		const result = validateStudy(this.#definition, this.#context);
		return result.ok ? [] : result.issues;
	});

	// What the page shows and what the server has, as canonical-enough JSON (same key order).
	#currentJson = $state('');
	#savedJson = $state('');
	#lastSnapshot: StudyDefinition;

	#inFlight = $state(false);
	#conflict = $state(false);
	#failure = $state<string | null>(null);
	#retrying = $state(false);
	#saveAgain = false;
	#attempt = 0;
	#destroyed = false;

	readonly #history = new UndoHistory<StudyDefinition>();
	#historyVersion = $state(0);
	#structuralChanges = 0;

	readonly #fetch: FetchLike;
	readonly #now: () => number;
	readonly #debounce: TimerSlot;
	readonly #retry: TimerSlot;

	constructor(options: StudyEditorOptions) {
		this.studyId = options.studyId;
		this.readonly = options.readonly;
		this.#context = options.context;
		this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
		this.#now = options.now ?? Date.now;
		this.#debounce = new TimerSlot(options.timers ?? systemTimers);
		this.#retry = new TimerSlot(options.timers ?? systemTimers);
		this.#lastSnapshot = cloneJson(options.definition);
		this.#load(options.definition, options.revision);
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
		return this.#revision;
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
		return this.#currentJson !== this.#savedJson;
	}
	get saveState(): SaveState {
		if (this.#conflict) return 'conflict';
		if (this.#inFlight) return 'saving';
		if (this.#failure !== null) return 'error';
		return this.hasUnsavedChanges ? 'unsaved' : 'saved';
	}
	/** What the save indicator says. */
	get saveMessage(): string {
		switch (this.saveState) {
			case 'saved':
				return 'All changes saved';
			case 'unsaved':
				return 'Unsaved changes';
			case 'saving':
				return 'Saving…';
			case 'conflict':
				return 'Someone else changed this study';
			case 'error':
				return `Could not save: ${this.#failure}${this.#retrying ? ' (retrying)' : ''}`;
		}
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
		this.#debounce.clear();
		this.#retry.clear();
		this.#history.clear();
		this.#historyVersion++;
		this.#conflict = false;
		this.#failure = null;
		this.#retrying = false;
		this.#load(definition, revision);
		this.#clampSelection();
	}

	/** Saves now instead of after the debounce (a no-op while nothing changed). */
	saveNow(): Promise<void> {
		return this.#save();
	}

	/** Stops the timers; a save in flight still finishes but schedules nothing. */
	destroy(): void {
		this.#destroyed = true;
		this.#debounce.clear();
		this.#retry.clear();
	}

	#load(definition: StudyDefinition, revision: number): void {
		this.#definition = cloneJson(definition);
		const json = JSON.stringify(this.#definition);
		this.#lastSnapshot = JSON.parse(json) as StudyDefinition;
		this.#currentJson = json;
		this.#savedJson = json;
		this.#revision = revision;
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
		this.#scheduleSave();
	}

	#restore(snapshot: StudyDefinition): void {
		this.#definition = cloneJson(snapshot);
		this.#lastSnapshot = snapshot;
		this.#currentJson = JSON.stringify(this.#definition);
		this.#historyVersion++;
		this.#clampSelection();
		this.#scheduleSave();
	}

	#clampSelection(): void {
		const selection = this.#selection;
		const count = this.#definition.stages.length;
		if (selection.kind !== 'stage' || selection.index < count) return;
		this.#selection = count === 0 ? { kind: 'settings' } : { kind: 'stage', index: count - 1 };
	}

	#scheduleSave(): void {
		if (this.readonly || this.#conflict || this.#destroyed) return;
		if (!this.hasUnsavedChanges) {
			this.#debounce.clear();
			return;
		}
		this.#debounce.start(AUTOSAVE_DEBOUNCE_MS, () => void this.#save());
	}

	/** One PUT at a time; a change while it runs saves again right after. */
	async #save(): Promise<void> {
		this.#debounce.clear();
		if (this.readonly || this.#conflict) return;
		if (this.#inFlight) {
			this.#saveAgain = true;
			return;
		}
		if (!this.hasUnsavedChanges) return;
		const snapshot = this.#lastSnapshot;
		if (!parseStudyDefinition(snapshot).ok) {
			// The server would refuse the shape; saving resumes with the next edit.
			this.#failure = 'fix the highlighted fields first';
			this.#retrying = false;
			return;
		}
		const json = this.#currentJson;
		this.#retry.clear();
		this.#inFlight = true;
		let outcome: SaveOutcome;
		try {
			const response = await this.#fetch(`/api/studies/${encodeURIComponent(this.studyId)}`, {
				method: 'PUT',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ definition: snapshot, revision: this.#revision })
			});
			outcome = await readSaveResponse(response);
		} catch {
			outcome = { kind: 'unreachable', message: 'the server cannot be reached' };
		}
		this.#inFlight = false;
		this.#applyOutcome(outcome, json);
	}

	#applyOutcome(outcome: SaveOutcome, json: string): void {
		switch (outcome.kind) {
			case 'saved':
				this.#revision = outcome.revision;
				this.#savedJson = json;
				this.#failure = null;
				this.#retrying = false;
				this.#attempt = 0;
				break;
			case 'conflict':
				// Someone else saved: stop, so their work is not overwritten.
				this.#conflict = true;
				this.#debounce.clear();
				return;
			case 'refused':
				this.#failure = outcome.message;
				this.#retrying = false;
				break;
			case 'unreachable': {
				this.#failure = outcome.message;
				this.#retrying = true;
				if (this.#destroyed) return;
				const delay = computeBackoffDelay(this.#attempt++, Math.random, RETRY_BACKOFF);
				this.#retry.start(Math.max(delay, 250), () => void this.#save());
				this.#saveAgain = false;
				return;
			}
		}
		if (this.#saveAgain && !this.#destroyed) {
			this.#saveAgain = false;
			void this.#save();
		}
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
