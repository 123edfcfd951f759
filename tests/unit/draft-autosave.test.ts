import { describe, expect, test } from 'bun:test';
import {
	classifySaveAnswer,
	computeRetryDelay,
	describeSaveMessage,
	describeSaveState,
	MIN_RETRY_DELAY_MS,
	planAfterSave,
	readSaveResponse,
	RETRY_BACKOFF,
	UNREACHABLE_MESSAGE,
	type SaveOutcome,
	type SaveStatus
} from '../../src/lib/client/draft-save';

/**
 * The designer's autosave decisions: what each answer to `PUT /api/studies/<id>` leads to, how
 * long a retry waits, and what the save indicator says. `DraftAutosave` only runs these steps.
 */

/** A random source that always returns `value`, so delays are the ceiling times `value`. */
const fixed = (value: number) => () => value;

const json = (status: number, body: unknown) =>
	new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** The step after the server answered `response` to a first attempt with no edit meanwhile. */
async function stepAfter(response: Response, changedWhileSaving = false) {
	return planAfterSave(await readSaveResponse(response), 0, changedWhileSaving, fixed(0.5));
}

describe('answers to a save', () => {
	test('200 is saved, with the revision the server answered', async () => {
		const response = json(200, { revision: 8, updatedAt: '2025-01-01T00:00:00Z', issues: [] });
		expect(await stepAfter(response)).toEqual({ kind: 'saved', revision: 8, saveAgain: false });
	});

	test('a 200 without a revision is not taken as saved', () => {
		expect(classifySaveAnswer(200, { updatedAt: 'now' })).toEqual({
			kind: 'refused',
			message: 'error 200'
		});
	});

	test('409 is a conflict, and autosave stops even if the draft changed meanwhile', async () => {
		const conflict = json(409, { error: 'conflict', message: 'The study was changed.' });
		expect(await stepAfter(conflict, true)).toEqual({ kind: 'conflict' });
	});

	test('400 invalid shows the server message and does not retry', async () => {
		const invalid = json(400, { error: 'invalid', message: 'settings.title: too long' });
		const step = await stepAfter(invalid);
		expect(step).toEqual({ kind: 'failed', message: 'settings.title: too long', saveAgain: false });
	});

	test('other 4xx answers are not retried either; without a message the status is shown', () => {
		for (const status of [401, 403, 404, 413]) {
			const step = planAfterSave(classifySaveAnswer(status, null), 0, false, fixed(0.5));
			expect(step).toEqual({ kind: 'failed', message: `error ${status}`, saveAgain: false });
		}
	});

	test('5xx, timeouts and rate limits are retried', () => {
		for (const status of [500, 502, 503, 504, 408, 429]) {
			const step = planAfterSave(classifySaveAnswer(status, null), 0, false, fixed(0.5));
			expect(step.kind).toBe('retry');
		}
	});

	test('a body that is not JSON is read as none', async () => {
		const gateway = new Response('<html>Bad gateway</html>', { status: 502 });
		expect(await readSaveResponse(gateway)).toEqual({
			kind: 'unreachable',
			message: 'error 502'
		});
	});

	test('a network error is retried with the "cannot be reached" message', () => {
		const outcome: SaveOutcome = { kind: 'unreachable', message: UNREACHABLE_MESSAGE };
		expect(planAfterSave(outcome, 0, false, fixed(0.5))).toEqual({
			kind: 'retry',
			message: 'the server cannot be reached',
			delayMs: 500
		});
	});
});

describe('retries', () => {
	test('the delay grows with each failed attempt and stops at the cap', () => {
		const outcome: SaveOutcome = { kind: 'unreachable', message: 'error 503' };
		const delays = Array.from({ length: 8 }, (_, attempt) => {
			const step = planAfterSave(outcome, attempt, false, fixed(0.5));
			return step.kind === 'retry' ? step.delayMs : -1;
		});
		expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
	});

	test('no retry waits longer than the cap, however many attempts failed', () => {
		const almostOne = fixed(0.999_999);
		for (const attempt of [5, 6, 20, 1000]) {
			expect(computeRetryDelay(attempt, almostOne)).toBe(RETRY_BACKOFF.capMs - 1);
		}
	});

	test('a jitter near zero still waits the minimum, so a dead server is not hit in a burst', () => {
		expect(computeRetryDelay(0, fixed(0))).toBe(MIN_RETRY_DELAY_MS);
		expect(computeRetryDelay(3, fixed(0.01))).toBe(MIN_RETRY_DELAY_MS);
	});
});

describe('a change while saving', () => {
	const saved: SaveOutcome = { kind: 'saved', revision: 3 };

	test('is saved again right after the answer', () => {
		expect(planAfterSave(saved, 0, true, fixed(0.5))).toEqual({
			kind: 'saved',
			revision: 3,
			saveAgain: true
		});
	});

	test('is saved again after a refusal too: the new draft may be accepted', () => {
		const refused: SaveOutcome = { kind: 'refused', message: 'error 400' };
		expect(planAfterSave(refused, 0, true, fixed(0.5))).toMatchObject({ saveAgain: true });
	});

	test('rides along with the retry after an unreachable server, not a second request', () => {
		const unreachable: SaveOutcome = { kind: 'unreachable', message: 'error 500' };
		const step = planAfterSave(unreachable, 0, true, fixed(0.5));
		expect(step.kind).toBe('retry');
		expect(step).not.toHaveProperty('saveAgain');
	});
});

describe('the save indicator', () => {
	const idle: SaveStatus = {
		conflict: false,
		inFlight: false,
		failure: null,
		retrying: false,
		unsaved: false
	};
	const say = (change: Partial<SaveStatus>) => describeSaveMessage({ ...idle, ...change });

	test('says what the draft and the request are doing', () => {
		expect(say({})).toBe('All changes saved');
		expect(say({ unsaved: true })).toBe('Unsaved changes');
		expect(say({ unsaved: true, inFlight: true })).toBe('Saving…');
		expect(say({ conflict: true, unsaved: true })).toBe('Someone else changed this study');
	});

	test('names the failure and whether a retry is coming', () => {
		expect(say({ unsaved: true, failure: 'error 503', retrying: true })).toBe(
			'Could not save: error 503 (retrying)'
		);
		expect(say({ unsaved: true, failure: 'settings.title: too long' })).toBe(
			'Could not save: settings.title: too long'
		);
	});

	test('a conflict outranks a request in flight, which outranks a failure', () => {
		const state = (change: Partial<SaveStatus>) => describeSaveState({ ...idle, ...change });
		expect(state({ conflict: true, inFlight: true, failure: 'x' })).toBe('conflict');
		expect(state({ inFlight: true, failure: 'x', unsaved: true })).toBe('saving');
		expect(state({ failure: 'x', unsaved: true })).toBe('error');
		expect(state({ failure: 'x' })).toBe('error');
		expect(state({ unsaved: true })).toBe('unsaved');
		expect(state({})).toBe('saved');
	});
});
