/**
 * The decisions behind the designer's autosave, without runes or timers so they can be tested
 * on their own: what a `PUT /api/studies/<id>` answer means, what to do after it, how long to
 * wait before a retry and what the save indicator says. `DraftAutosave` runs the effects.
 */
import { computeBackoffDelay } from './backoff';

export type SaveState = 'saved' | 'unsaved' | 'saving' | 'error' | 'conflict';

/** What one save attempt came to. */
export type SaveOutcome =
	| { kind: 'saved'; revision: number }
	| { kind: 'conflict' }
	/** The server will not take this draft; asking again with the same draft will not help. */
	| { kind: 'refused'; message: string }
	/** The server could not answer (down, overloaded, network gone); worth asking again. */
	| { kind: 'unreachable'; message: string };

/** What autosave does after an attempt. */
export type SaveStep =
	/** The server holds the draft sent at `revision`; `saveAgain`: it changed meanwhile. */
	| { kind: 'saved'; revision: number; saveAgain: boolean }
	/** Someone else saved first: stop, so their work is not overwritten. */
	| { kind: 'conflict' }
	/** Show `message`; the next edit (or a change made meanwhile, `saveAgain`) tries again. */
	| { kind: 'failed'; message: string; saveAgain: boolean }
	/** Show `message` and try again after `delayMs`; the retry also carries later changes. */
	| { kind: 'retry'; message: string; delayMs: number };

/** What the save indicator is built from. */
export type SaveStatus = {
	/** A newer revision exists on the server; nothing is saved until the page reloads it. */
	conflict: boolean;
	inFlight: boolean;
	/** Why the last attempt failed, or null. */
	failure: string | null;
	/** A retry is scheduled for that failure. */
	retrying: boolean;
	/** The draft differs from what the server has. */
	unsaved: boolean;
};

// Retries after network errors: quick first, then no more than every 30 s.
export const RETRY_BACKOFF = { baseMs: 1000, capMs: 30_000 };
// Full jitter can draw a delay near zero; a floor keeps a dead server from being hit in a burst.
export const MIN_RETRY_DELAY_MS = 250;

/** The message shown when a save could not reach the server at all. */
export const UNREACHABLE_MESSAGE = 'the server cannot be reached';
/** The message shown when the draft's shape is broken and sending it would be refused anyway. */
export const INVALID_DRAFT_MESSAGE = 'fix the highlighted fields first';

/** Maps the status and JSON body of a `PUT /api/studies/<id>` answer to its outcome. */
export function classifySaveAnswer(status: number, body: unknown): SaveOutcome {
	const fields = (typeof body === 'object' && body !== null ? body : {}) as {
		revision?: unknown;
		message?: unknown;
	};
	if (status >= 200 && status < 300 && typeof fields.revision === 'number') {
		return { kind: 'saved', revision: fields.revision };
	}
	if (status === 409) return { kind: 'conflict' };
	const message = typeof fields.message === 'string' ? fields.message : `error ${status}`;
	// 5xx and proxies timing out are worth retrying; other 4xx answers will not change.
	if (status >= 500 || status === 408 || status === 429) return { kind: 'unreachable', message };
	return { kind: 'refused', message };
}

/** Reads a `PUT /api/studies/<id>` response (a body that is not JSON counts as none). */
export async function readSaveResponse(response: Response): Promise<SaveOutcome> {
	const body: unknown = await response.json().catch(() => null);
	return classifySaveAnswer(response.status, body);
}

/**
 * The wait before retry number `attempt` (0 first): jittered, doubling from 1 s, at most 30 s,
 * never below {@link MIN_RETRY_DELAY_MS}.
 */
export function computeRetryDelay(attempt: number, random: () => number): number {
	return Math.max(computeBackoffDelay(attempt, random, RETRY_BACKOFF), MIN_RETRY_DELAY_MS);
}

/**
 * The next step after an attempt. `attempt` counts the failed attempts before this one (for the
 * retry delay); `changedWhileSaving` says the draft was edited while the request ran.
 */
export function planAfterSave(
	outcome: SaveOutcome,
	attempt: number,
	changedWhileSaving: boolean,
	random: () => number
): SaveStep {
	switch (outcome.kind) {
		case 'saved':
			return { kind: 'saved', revision: outcome.revision, saveAgain: changedWhileSaving };
		case 'conflict':
			return { kind: 'conflict' };
		case 'refused':
			return { kind: 'failed', message: outcome.message, saveAgain: changedWhileSaving };
		case 'unreachable':
			return {
				kind: 'retry',
				message: outcome.message,
				delayMs: computeRetryDelay(attempt, random)
			};
	}
}

/** The indicator's state: a conflict outranks a request in flight, which outranks a failure. */
export function describeSaveState(status: SaveStatus): SaveState {
	if (status.conflict) return 'conflict';
	if (status.inFlight) return 'saving';
	if (status.failure !== null) return 'error';
	return status.unsaved ? 'unsaved' : 'saved';
}

/** What the save indicator says. */
export function describeSaveMessage(status: SaveStatus): string {
	switch (describeSaveState(status)) {
		case 'saved':
			return 'All changes saved';
		case 'unsaved':
			return 'Unsaved changes';
		case 'saving':
			return 'Saving…';
		case 'conflict':
			return 'Someone else changed this study';
		case 'error':
			return `Could not save: ${status.failure ?? ''}${status.retrying ? ' (retrying)' : ''}`;
	}
}
