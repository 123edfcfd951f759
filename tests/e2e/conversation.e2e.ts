import { expect, test, type Page } from '@playwright/test';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';
import { openActor, type Actor } from './support/actors';
import { endRoom, publishStudy, signInResearcher } from './support/researcher';

// A dyad reaches a conversation stage while the LiveKit server is down: this server has
// LiveKit settings (so the study publishes) pointing at a port nobody listens on. Chromium's
// fake camera and microphone stand in for real devices. The ready check shows the camera; in the
// room each participant sees their own picture, then, within a bounded time, the plain-words
// "cannot be reached" state, while the study room itself stays connected. The experimenter
// ends the room with `technical_error`, and both land on that outcome.

const UNREACHABLE =
	'The audio/video service cannot be reached. Please wait; the researchers have been told.';
/** Four tries with backoff (≤ 0.5 + 1 + 2 + 4 s) and fast refusals: well inside this. */
const FAILED_WITHIN_MS = 30_000;

function makeConversationStudy(): StudyDefinition {
	const study = createBlankStudy('Conversation e2e');
	study.settings.participantTitle = 'Talking face to face';
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	const consent = createStage('consent', []);
	if (consent.type === 'consent') consent.content.markdown = 'We record your answers.';
	const talk = createStage('conversation', ['consent']);
	if (talk.type !== 'conversation') throw new Error('not a conversation stage');
	talk.content.audio = true;
	talk.content.video = true;
	// `first` with a time limit: the group moves on after 5 minutes or once both are done.
	study.stages = [
		consent,
		{ ...talk, id: 'talk', title: 'Talk together', advance: 'first', durationSeconds: 300 },
		createStage('end', ['consent', 'talk'])
	];
	return study;
}

/** From the link through consent and the ready check (with the fake camera) to the waiting room. */
async function passReadyCheck(page: Page, link: string): Promise<void> {
	await page.goto(link);
	await page.getByRole('button', { name: 'Start' }).click();
	await page.getByRole('button', { name: 'I agree' }).click();
	await expect(page.getByRole('heading', { name: 'Ready check' })).toBeVisible();
	await page.getByRole('button', { name: 'Turn on sound' }).click();
	await page.getByRole('button', { name: 'Allow camera and microphone' }).click();
	await expect(page.getByText('Camera and microphone are allowed.')).toBeVisible();
	// The preview plays the fake camera: frames with a size, not just an element.
	const preview = page.getByLabel('Your camera preview');
	await expect
		.poll(() => preview.evaluate((v: HTMLVideoElement) => v.videoWidth))
		.toBeGreaterThan(0);
	await page.getByRole('button', { name: 'Continue to the waiting room' }).click();
}

/**
 * On the conversation stage: our own camera in our tile, the controls, then the tries again
 * and the plain-words failure, while the study room stays connected. Returns how long after
 * the stage's heading the failure showed (ms).
 */
async function expectUnreachableState(page: Page): Promise<number> {
	await expect(page.getByRole('heading', { name: 'Talk together' })).toBeVisible({
		timeout: 15_000
	});
	const shownAt = Date.now();
	const conversation = page.locator('[data-stage-type="conversation"]');
	const status = conversation.getByRole('status').filter({ hasText: /audio and video/ });
	// Our own tile plays the fake camera even though the room cannot be reached.
	const own = conversation.getByLabel('You', { exact: true });
	await expect.poll(() => own.evaluate((v: HTMLVideoElement) => v.videoWidth)).toBeGreaterThan(0);
	await expect(conversation.getByRole('button', { name: 'Mute' })).toBeVisible();
	await expect(conversation.getByRole('button', { name: 'Turn camera off' })).toBeVisible();
	// `first` waits for submissions: the stage offers "I am done".
	await expect(conversation.getByRole('button', { name: 'I am done' })).toBeEnabled();

	// A few tries with backoff, counted on the status line, then the failure in plain words.
	await expect(status).toHaveText(/^Connecting audio and video again \(try [2-4] of 4\)…$/);
	await expect(conversation.getByRole('alert')).toHaveText(new RegExp(UNREACHABLE), {
		timeout: FAILED_WITHIN_MS
	});
	const failedAfterMs = Date.now() - shownAt;
	await expect(conversation.locator('[data-conversation-status]')).toHaveAttribute(
		'data-conversation-status',
		'failed'
	);
	await expect(status).toHaveText('No audio and video connection.');
	await expect(conversation.getByRole('button', { name: 'Try again' })).toBeVisible();
	// A/V trouble is media only: the study room's own connection is untouched.
	await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
	return failedAfterMs;
}

test('a conversation without a reachable LiveKit says so plainly; the experimenter ends the room', async ({
	browser
}, testInfo) => {
	test.setTimeout(120_000);
	const baseURL = testInfo.project.use.baseURL!;
	const researcher = await signInResearcher(browser, baseURL);
	const { link } = await publishStudy(researcher, baseURL, makeConversationStudy());
	const actors: Actor[] = [];
	const a = await openActor(browser, baseURL, actors);
	const b = await openActor(browser, baseURL, actors);

	// The room socket's telemetry frames from A: the av.quality samples the page sends.
	const quality: { stageId: string; connectionQuality: string; tracks: unknown[] }[] = [];
	a.page.on('websocket', (socket) =>
		socket.on('framesent', ({ payload }) => {
			const frame = JSON.parse(String(payload)) as {
				type: string;
				samples?: { kind: string; value: (typeof quality)[number] }[];
			};
			if (frame.type !== 'telemetry') return;
			for (const sample of frame.samples ?? []) {
				if (sample.kind === 'av.quality') quality.push(sample.value);
			}
		})
	);

	await passReadyCheck(a.page, link);
	await expect(a.page.getByRole('heading', { name: 'Waiting room' })).toBeVisible();
	await passReadyCheck(b.page, link);

	// Both at once, each timed from its own stage heading.
	const failedAfterMs = await Promise.all([a, b].map(({ page }) => expectUnreachableState(page)));
	testInfo.annotations.push({
		type: 'failed state shown after (ms, from the stage heading)',
		description: failedAfterMs.join(', ')
	});
	console.log(`conversation e2e: failed state shown after ${failedAfterMs.join(', ')} ms`);

	// Quality as data every ~5 s, even now: no connection reads `lost`, with no tracks to measure.
	await expect.poll(() => quality.length, { timeout: 15_000 }).toBeGreaterThan(0);
	expect(quality.at(-1)).toEqual({ stageId: 'talk', connectionQuality: 'lost', tracks: [] });

	// The local controls work without a connection: muting is ours to decide.
	await a.page.getByRole('button', { name: 'Mute' }).click();
	await expect(a.page.getByRole('button', { name: 'Unmute' })).toHaveAttribute(
		'aria-pressed',
		'true'
	);

	const roomId = await a.page.locator('[data-room-id]').getAttribute('data-room-id');
	expect(roomId).toBeTruthy();
	expect(await b.page.locator('[data-room-id]').getAttribute('data-room-id')).toBe(roomId);
	await endRoom(researcher, roomId!, 'technical_error');

	for (const { page } of [a, b]) {
		await expect(page.locator('[data-outcome]')).toHaveAttribute(
			'data-outcome',
			'technical_error',
			{ timeout: 15_000 }
		);
		await expect(
			page.getByText('The session ended because of a technical problem. We are sorry.')
		).toBeVisible();
		await expect(page.locator('[data-stage-type="conversation"]')).toHaveCount(0);
	}
	// The page policy lets the LiveKit URL through (security-headers.ts): the connection failed
	// because nothing listens there, not because the browser blocked it.
	for (const actor of actors) expect(actor.cspErrors).toEqual([]);
	await Promise.all([...actors.map((actor) => actor.context.close()), researcher.close()]);
});
