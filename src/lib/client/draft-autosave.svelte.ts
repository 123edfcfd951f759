/**
 * Autosave for the study designer's draft: a debounce after each change, one `PUT` in flight at
 * a time (a change while it runs saves again right after), retries with backoff when the server
 * cannot be reached, and a full stop on a conflict. Owned by `StudyEditor`, which tells it about
 * every change; the decisions themselves live in `./draft-save`.
 */
import { parseStudyDefinition, type StudyDefinition } from '$lib/study';
import {
	describeSaveMessage,
	describeSaveState,
	INVALID_DRAFT_MESSAGE,
	planAfterSave,
	readSaveResponse,
	UNREACHABLE_MESSAGE,
	type SaveOutcome,
	type SaveState,
	type SaveStatus,
	type SaveStep
} from './draft-save';
import { systemTimers, TimerSlot, type Timers } from './timers';

/** The part of `fetch` autosave uses (tests pass a fake). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** The draft as it stands: its JSON (compared with the saved copy) and the copy to send. */
export type DraftReading = { json: string; definition: StudyDefinition };

export type DraftAutosaveOptions = {
	studyId: string;
	/** The revision the server holds, and the JSON of the draft at that revision. */
	revision: number;
	savedJson: string;
	/** Never saves: a viewer or a view-only share. */
	readonly: boolean;
	/** Reads the current draft; its JSON must be reactive so `hasUnsavedChanges` follows edits. */
	readDraft: () => DraftReading;
	fetch?: FetchLike;
	timers?: Timers;
	random?: () => number;
};

// Long enough that a typed word is one request, short enough that closing the tab a second
// after typing rarely loses anything (and the page warns before leaving anyway).
const AUTOSAVE_DEBOUNCE_MS = 800;

export class DraftAutosave {
	readonly #studyId: string;
	readonly #readonly: boolean;
	readonly #readDraft: () => DraftReading;
	readonly #fetch: FetchLike;
	readonly #random: () => number;
	readonly #debounce: TimerSlot;
	readonly #retry: TimerSlot;

	#revision = $state(0);
	#savedJson = $state('');
	#inFlight = $state(false);
	#conflict = $state(false);
	#failure = $state<string | null>(null);
	#retrying = $state(false);
	#saveAgain = false;
	#attempt = 0;
	#destroyed = false;

	constructor(options: DraftAutosaveOptions) {
		this.#studyId = options.studyId;
		this.#readonly = options.readonly;
		this.#readDraft = options.readDraft;
		this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
		this.#random = options.random ?? Math.random;
		this.#debounce = new TimerSlot(options.timers ?? systemTimers);
		this.#retry = new TimerSlot(options.timers ?? systemTimers);
		this.#revision = options.revision;
		this.#savedJson = options.savedJson;
	}

	/** The revision the server last confirmed; the next save is based on it. */
	get revision(): number {
		return this.#revision;
	}
	get hasUnsavedChanges(): boolean {
		return this.#readDraft().json !== this.#savedJson;
	}
	get state(): SaveState {
		return describeSaveState(this.#status());
	}
	/** What the save indicator says. */
	get message(): string {
		return describeSaveMessage(this.#status());
	}

	/** Notes a change to the draft: saves after the debounce, or cancels it if undone back. */
	schedule(): void {
		if (this.#readonly || this.#conflict || this.#destroyed) return;
		if (!this.hasUnsavedChanges) {
			this.#debounce.clear();
			return;
		}
		this.#debounce.start(AUTOSAVE_DEBOUNCE_MS, () => void this.save());
	}

	/**
	 * Saves now instead of after the debounce (a no-op while nothing changed); while a request
	 * runs, saves again once it is answered.
	 */
	async save(): Promise<void> {
		this.#debounce.clear();
		if (this.#readonly || this.#conflict) return;
		if (this.#inFlight) {
			this.#saveAgain = true;
			return;
		}
		if (!this.hasUnsavedChanges) return;
		const { json, definition } = this.#readDraft();
		if (!parseStudyDefinition(definition).ok) {
			// The server would refuse the shape; saving resumes with the next edit.
			this.#failure = INVALID_DRAFT_MESSAGE;
			this.#retrying = false;
			return;
		}
		this.#retry.clear();
		this.#inFlight = true;
		let outcome: SaveOutcome;
		try {
			const response = await this.#fetch(`/api/studies/${encodeURIComponent(this.#studyId)}`, {
				method: 'PUT',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ definition, revision: this.#revision })
			});
			outcome = await readSaveResponse(response);
		} catch {
			outcome = { kind: 'unreachable', message: UNREACHABLE_MESSAGE };
		}
		this.#inFlight = false;
		const step = planAfterSave(outcome, this.#attempt, this.#saveAgain, this.#random);
		this.#saveAgain = false;
		this.#apply(step, json);
	}

	/**
	 * Starts over from the server's copy (after a conflict, "Reload the latest version"): the
	 * server holds `savedJson` at `revision`, and conflict, failure and timers are forgotten.
	 */
	resume(savedJson: string, revision: number): void {
		this.#debounce.clear();
		this.#retry.clear();
		this.#conflict = false;
		this.#failure = null;
		this.#retrying = false;
		this.#savedJson = savedJson;
		this.#revision = revision;
	}

	/** Stops the timers; a save in flight still finishes but schedules nothing. */
	destroy(): void {
		this.#destroyed = true;
		this.#debounce.clear();
		this.#retry.clear();
	}

	#status(): SaveStatus {
		return {
			conflict: this.#conflict,
			inFlight: this.#inFlight,
			failure: this.#failure,
			retrying: this.#retrying,
			unsaved: this.hasUnsavedChanges
		};
	}

	/** Runs `step` for the attempt that sent `json`. */
	#apply(step: SaveStep, json: string): void {
		switch (step.kind) {
			case 'saved':
				this.#revision = step.revision;
				this.#savedJson = json;
				this.#failure = null;
				this.#retrying = false;
				this.#attempt = 0;
				break;
			case 'conflict':
				this.#conflict = true;
				this.#debounce.clear();
				return;
			case 'failed':
				this.#failure = step.message;
				this.#retrying = false;
				break;
			case 'retry':
				this.#failure = step.message;
				this.#retrying = true;
				this.#attempt++;
				if (!this.#destroyed) this.#retry.start(step.delayMs, () => void this.save());
				return;
		}
		if (step.saveAgain && !this.#destroyed) void this.save();
	}
}
