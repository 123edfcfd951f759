import { expect, test, type Page } from '@playwright/test';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
	type StudyDefinition
} from '../../src/lib/study';
import { countPerMember, publishStudy, readRoomLog, signInResearcher } from './support/researcher';

// Two participants take a dyad study's link: consent, instructions, the ready check, the
// waiting room, then the stages in lockstep in their room (questionnaire, chat, group choice)
// to the completion code. The researcher publishes through the API and reads the room's log.

const CODE = 'C0DE42';

function makeDyadStudy(): StudyDefinition {
	const study = createBlankStudy('Journey e2e');
	study.settings.participantTitle = 'Talking together';
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	study.settings.outcomes.completed.completionCode = CODE;
	const consent = createStage('consent', []);
	if (consent.type === 'consent') consent.content.markdown = 'We record your answers.';
	// `first` with a time limit: a group phase (so it runs in the room), over once both answered.
	const questionnaire = {
		...createStage('questionnaire', []),
		id: 'about',
		title: 'About you',
		advance: 'first',
		durationSeconds: 300
	} as const;
	if (questionnaire.type === 'questionnaire') {
		questionnaire.content.items = [
			{ ...createQuestionItem('short_text', []), id: 'colour', prompt: 'Favourite colour' }
		];
	}
	const chat = {
		...createStage('chat', []),
		id: 'talk',
		title: 'Chat together',
		advance: 'first',
		durationSeconds: 60
	} as const;
	const choice = { ...createStage('group_choice', []), id: 'pick', title: 'Pick together' };
	if (choice.type === 'group_choice') choice.content.prompt = 'Which one shall we take?';
	study.stages = [
		consent,
		createStage('instructions', ['consent']),
		questionnaire,
		chat,
		choice,
		createStage('end', ['consent', 'instructions', 'about', 'talk', 'pick'])
	];
	return study;
}

/** A participant from the link through the ready check, into the waiting room. */
async function passReadyCheck(page: Page, link: string): Promise<void> {
	await page.goto(link);
	await expect(page.getByRole('heading', { name: 'Talking together' })).toBeVisible();
	await page.getByRole('button', { name: 'Start' }).click();
	await page.getByRole('button', { name: 'I agree' }).click();
	await page.getByRole('button', { name: 'Continue' }).click();
	await expect(page.getByRole('heading', { name: 'Ready check' })).toBeVisible();
	await expect(page.getByText('Your browser supports this study.')).toBeVisible();
	await page.getByRole('button', { name: 'Turn on sound' }).click();
	await page.getByRole('button', { name: 'Continue to the waiting room' }).click();
}

test('two participants run a dyad study in lockstep, from the link to the completion code', async ({
	browser
}, testInfo) => {
	const baseURL = testInfo.project.use.baseURL!;
	const researcher = await signInResearcher(browser, baseURL);
	const { link } = await publishStudy(researcher, baseURL, makeDyadStudy());
	const a = await browser.newContext({ baseURL });
	const b = await browser.newContext({ baseURL });
	const pageA = await a.newPage();
	const pageB = await b.newPage();

	await passReadyCheck(pageA, link);
	await expect(pageA.getByRole('heading', { name: 'Waiting room' })).toBeVisible();
	await expect(pageA.getByText('1 of 2 participants needed are waiting.')).toBeVisible();
	// A refresh keeps the step: the same participant, still in the waiting room.
	await pageA.reload();
	await expect(pageA.getByRole('heading', { name: 'Waiting room' })).toBeVisible();
	await expect(pageA.getByRole('button', { name: 'Start' })).toHaveCount(0);

	// B completes the group: formed at once, so B goes straight to the room; A learns it from
	// its next heartbeat (every 5 s). Both land on the first room stage, connected.
	await passReadyCheck(pageB, link);
	for (const page of [pageA, pageB]) {
		await expect(page.getByRole('heading', { name: 'About you' })).toBeVisible({
			timeout: 15_000
		});
		await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
	}
	const roomA = await pageA.locator('[data-room-id]').getAttribute('data-room-id');
	const roomB = await pageB.locator('[data-room-id]').getAttribute('data-room-id');
	expect(roomA).toBeTruthy();
	expect(roomA).toBe(roomB);

	// A refreshes mid-stage: the same stage again, from the server.
	await pageA.getByLabel('Favourite colour').fill('green');
	await pageA.reload();
	await expect(pageA.getByRole('heading', { name: 'About you' })).toBeVisible();
	await pageA.getByLabel('Favourite colour').fill('green');
	// A double click sends one answer; "Saved" appears only once the server has it.
	await pageA.getByRole('button', { name: 'Submit answers' }).dblclick();
	await expect(pageA.getByText('Saved. Waiting for 1 other…')).toBeVisible();
	// After a refresh A is still on the stage, with the answer saved.
	await pageA.reload();
	await expect(pageA.getByRole('heading', { name: 'About you' })).toBeVisible();
	await expect(pageA.getByText('Saved. Waiting for 1 other…')).toBeVisible();
	await expect(pageA.getByRole('button', { name: 'Submit answers' })).toHaveCount(0);

	await pageB.getByLabel('Favourite colour').fill('blue');
	await pageB.getByRole('button', { name: 'Submit answers' }).click();

	// Chat: each sees the other's message.
	for (const page of [pageA, pageB]) {
		await expect(page.getByRole('heading', { name: 'Chat together' })).toBeVisible();
	}
	await pageA.getByRole('textbox', { name: 'Message' }).fill('Hello from A');
	await pageA.getByRole('button', { name: 'Send' }).click();
	await expect(
		pageB.getByRole('list', { name: 'Chat messages' }).getByText('Hello from A')
	).toBeVisible();
	await pageB.getByRole('textbox', { name: 'Message' }).fill('Hi A, B here');
	await pageB.getByRole('button', { name: 'Send' }).click();
	await expect(
		pageA.getByRole('list', { name: 'Chat messages' }).getByText('Hi A, B here')
	).toBeVisible();
	for (const page of [pageA, pageB]) {
		await page.getByRole('button', { name: 'I am done chatting' }).click();
	}

	// Group choice, shown live: B sees A's pick before choosing.
	for (const page of [pageA, pageB]) {
		await expect(page.getByRole('heading', { name: 'Pick together' })).toBeVisible();
	}
	await pageA.getByRole('radio', { name: 'Option A' }).check();
	await pageA.getByRole('button', { name: 'Choose' }).click();
	await expect(pageA.getByText('Your choice: Option A')).toBeVisible();
	await expect(
		pageB.getByRole('region', { name: 'Group choices' }).getByText('Option A: 1')
	).toBeVisible();
	await pageB.getByRole('radio', { name: 'Option A' }).check();
	await pageB.getByRole('button', { name: 'Choose' }).click();

	for (const page of [pageA, pageB]) {
		await expect(page.getByText('Your completion code')).toBeVisible();
		await expect(page.getByText(CODE, { exact: true })).toBeVisible();
		await expect(page.getByRole('link', { name: 'Continue' })).toHaveAttribute(
			'href',
			new RegExp(CODE)
		);
	}

	// The double click stored one answer: one `stage.submitted` per member in the room's log.
	const log = await readRoomLog(researcher, roomA!);
	const counts = countPerMember(log, 'stage.submitted', (payload) => payload.stageId === 'about');
	expect(Object.values(counts).sort()).toEqual([1, 1]);
	// Every member ends with exactly one outcome.
	expect(Object.values(countPerMember(log, 'member.outcome'))).toEqual([1, 1]);
	await Promise.all([a.close(), b.close(), researcher.close()]);
});

const DROPOUT_CODE = 'DR0P77';

/** Keeps only the stages `ids` of `study` (in their order), then a new end stage. */
function keepStages(study: StudyDefinition, ids: readonly string[]): void {
	const kept = study.stages.filter((stage) => ids.includes(stage.id));
	expect(kept.map((stage) => stage.id)).toEqual(ids);
	study.stages = [...kept, createStage('end', ids)];
}

/**
 * A dyad whose one room stage waits 20 s for a member who left, then ends the room with the
 * `dropout` outcome: the clearest visible result (a message and its own code) for A. The
 * countdown runs from when they left, so the pause shows once the 10 s presence grace is over,
 * for the 10 s that remain.
 */
function makeDropoutStudy(): StudyDefinition {
	const study = makeDyadStudy();
	study.settings.title = 'Journey dropout e2e';
	study.settings.outcomes.dropout.completionCode = DROPOUT_CODE;
	keepStages(study, ['consent', 'instructions', 'about']);
	study.stages[2]!.dropout = { policy: 'pause', countdownSeconds: 20, then: 'end' };
	return study;
}

test('a participant closes the tab: the other sees the pause countdown, then the dropout end', async ({
	browser
}, testInfo) => {
	// The countdown (20 s, the presence grace included) + a 5 s heartbeat on the way in.
	test.setTimeout(90_000);
	const baseURL = testInfo.project.use.baseURL!;
	const researcher = await signInResearcher(browser, baseURL);
	const { link } = await publishStudy(researcher, baseURL, makeDropoutStudy());
	const a = await browser.newContext({ baseURL });
	const b = await browser.newContext({ baseURL });
	const pageA = await a.newPage();
	const pageB = await b.newPage();

	await passReadyCheck(pageA, link);
	await expect(pageA.getByRole('heading', { name: 'Waiting room' })).toBeVisible();
	await passReadyCheck(pageB, link);
	for (const page of [pageA, pageB]) {
		await expect(page.getByRole('heading', { name: 'About you' })).toBeVisible({
			timeout: 15_000
		});
		await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
	}
	const roomId = await pageA.locator('[data-room-id]').getAttribute('data-room-id');
	expect(roomId).toBeTruthy();

	// B closes the tab. Within the grace period nothing shows; after it, A's room pauses with a
	// countdown for B to come back.
	await pageB.close();
	const pause = pageA.getByRole('status').filter({ hasText: 'Waiting for a member to come back' });
	await expect(pause).toBeVisible({ timeout: 20_000 });
	await expect(pause).toHaveText(/Waiting for a member to come back — \d+:\d\d/);
	await expect(pageA.getByRole('button', { name: 'Submit answers' })).toBeVisible();

	// B does not come back: the room ends with the dropout outcome and its code.
	const outcome = pageA.locator('[data-outcome]');
	await expect(outcome).toHaveAttribute('data-outcome', 'dropout', { timeout: 15_000 });
	await expect(
		pageA.getByText('The session ended early because too few people remained.')
	).toBeVisible();
	await expect(pageA.getByText(DROPOUT_CODE, { exact: true })).toBeVisible();
	await expect(pause).toHaveCount(0);
	await expect(pageA.getByRole('button', { name: 'Submit answers' })).toHaveCount(0);

	// The log: the pause, then exactly one `dropout` outcome for each of the two members.
	const log = await readRoomLog(researcher, roomId!);
	const names = log.map((event) => event.name);
	expect(names).toContain('room.paused');
	expect(names.indexOf('room.paused')).toBeLessThan(names.indexOf('room.finished'));
	const outcomes = log.filter((event) => event.name === 'member.outcome');
	expect(outcomes.map((event) => event.payload.outcome)).toEqual(['dropout', 'dropout']);
	expect(Object.values(countPerMember(log, 'member.outcome'))).toEqual([1, 1]);
	await Promise.all([a.close(), b.close(), researcher.close()]);
});

const PILOT_CODE = 'P1L0T4';

/** A 4-person matched study: consent → instructions → questionnaire → group choice → end. */
function makeQuartetStudy(): StudyDefinition {
	const study = makeDyadStudy();
	study.settings.title = 'Journey pilot e2e';
	study.settings.session = {
		mode: 'matched',
		groupSize: 4,
		minGroupSize: 4,
		lobbyTimeoutSeconds: 300
	};
	study.settings.outcomes.completed.completionCode = PILOT_CODE;
	keepStages(study, ['consent', 'instructions', 'about', 'pick']);
	// No time limit: bots leave a timed `first` stage to its timer (plan.ts), so with one they
	// would not answer it at all. Untimed `first` is still a room stage, over once all submit.
	study.stages[2]!.durationSeconds = null;
	return study;
}

type BotRow = { participantId: string; outcome: string | null; answered: string[] };

test('a researcher pilots a 4-person study alone with 3 bots', async ({ browser }, testInfo) => {
	test.setTimeout(120_000);
	const baseURL = testInfo.project.use.baseURL!;
	const researcher = await signInResearcher(browser, baseURL);
	const { id, link } = await publishStudy(researcher, baseURL, makeQuartetStudy());

	// The editor's "Pilot with bots" panel suggests the other 3 seats.
	const editor = await researcher.newPage();
	await editor.goto(`/studies/${id}`);
	await editor.getByText('Pilot with bots', { exact: true }).click();
	await expect(editor.getByLabel('Number of bots')).toHaveValue('3');
	await editor.getByRole('button', { name: 'Fill the other seats with bots' }).click();
	await expect(editor.getByText('Started 3 bots.')).toBeVisible();
	// The bots take the link on their own and wait for a fourth.
	const summary = editor.getByRole('status').filter({ hasText: /bots?:/ });
	await expect(async () => {
		await editor.getByRole('button', { name: 'Check on the bots' }).click();
		await expect(summary).toHaveText('3 bots: 3 waiting.', { timeout: 1_000 });
	}).toPass({ timeout: 30_000 });

	// The researcher takes the last seat as a participant, in a context of their own.
	const participant = await browser.newContext({ baseURL });
	const page = await participant.newPage();
	await passReadyCheck(page, link);
	await expect(page.getByRole('heading', { name: 'About you' })).toBeVisible({ timeout: 15_000 });
	await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
	await page.getByLabel('Favourite colour').fill('orange');
	await page.getByRole('button', { name: 'Submit answers' }).click();

	// The bots answer too: the group moves on once all four have.
	await expect(page.getByRole('heading', { name: 'Pick together' })).toBeVisible({
		timeout: 30_000
	});
	await page.getByRole('radio', { name: 'Option B' }).check();
	await page.getByRole('button', { name: 'Choose' }).click();
	await expect(page.getByText('Your choice: Option B')).toBeVisible();

	await expect(page.getByText('Your completion code')).toBeVisible({ timeout: 30_000 });
	await expect(page.getByText(PILOT_CODE, { exact: true })).toBeVisible();

	// The bots finished too, each with one completed outcome and one answer per group stage.
	await expect(async () => {
		await editor.getByRole('button', { name: 'Check on the bots' }).click();
		await expect(summary).toHaveText('3 bots: 3 finished (completed).', { timeout: 1_000 });
	}).toPass({ timeout: 15_000 });
	const listed = await researcher.request.get(`/api/studies/${id}/bots`);
	const { bots } = (await listed.json()) as { bots: BotRow[] };
	expect(bots).toHaveLength(3);
	for (const bot of bots) {
		expect(bot.outcome).toBe('completed');
		expect(bot.answered.filter((stageId) => stageId === 'about')).toHaveLength(1);
	}
	const roomId = await page.locator('[data-room-id]').getAttribute('data-room-id');
	const log = await readRoomLog(researcher, roomId!);
	expect(Object.values(countPerMember(log, 'member.outcome'))).toEqual([1, 1, 1, 1]);
	expect(
		Object.values(countPerMember(log, 'stage.submitted', (payload) => payload.stageId === 'about'))
	).toEqual([1, 1, 1, 1]);
	await Promise.all([participant.close(), researcher.close()]);
});
