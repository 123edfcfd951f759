import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
	type StudyDefinition
} from '../../src/lib/study';

// Two participants take a dyad study's link: consent, instructions, the ready check, the
// waiting room, then the stages in lockstep in their room (questionnaire, chat, group choice)
// to the completion code. The researcher publishes through the API and reads the room's log.

const CODE = 'C0DE42';

const ADMIN = { name: 'Jo Journey', email: 'jo@journey.test', password: 'sturdy evening lantern' };

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

/**
 * First-run setup and a published study through the API; returns the study link's path and
 * the signed-in researcher's context.
 */
async function publishStudy(
	browser: Browser,
	baseURL: string
): Promise<{ link: string; researcher: BrowserContext }> {
	const context = await browser.newContext({ baseURL });
	const request = context.request;
	const headers = { origin: baseURL };
	const setup = await request.post('/setup', {
		headers: { ...headers, accept: 'text/html' },
		form: { ...ADMIN, confirm: ADMIN.password },
		maxRedirects: 0
	});
	expect(setup.status()).toBe(303);
	const created = await request.post('/api/studies', { headers, data: { title: 'Journey' } });
	const { id } = (await created.json()) as { id: string };
	const detail = (await (await request.get(`/api/studies/${id}`)).json()) as {
		revision: number;
		slug: string;
	};
	const saved = await request.put(`/api/studies/${id}`, {
		headers,
		data: { definition: makeDyadStudy(), revision: detail.revision }
	});
	expect(saved.ok()).toBe(true);
	const published = await request.post(`/api/studies/${id}/publish`, { headers });
	expect(published.status(), await published.text()).toBe(201);
	return { link: `/s/${detail.slug}`, researcher: context };
}

/**
 * The researcher reads the room's whole log over their own socket (§8a) and counts the
 * `stage.submitted` events per member for `stageId`: the log is the record of every answer.
 */
async function countSubmissions(
	researcher: BrowserContext,
	roomId: string,
	stageId: string
): Promise<Record<string, number>> {
	const page = await researcher.newPage();
	await page.goto('/');
	const counts = await page.evaluate(
		({ roomId, stageId }) =>
			new Promise<Record<string, number>>((resolve, reject) => {
				const url = new URL(`/realtime/rooms/${roomId}`, location.origin);
				url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
				const socket = new WebSocket(url);
				const counts: Record<string, number> = {};
				let head = -1;
				let last = 0;
				const finish = () => {
					socket.close();
					resolve(counts);
				};
				socket.onopen = () => socket.send(JSON.stringify({ type: 'join', v: 1, lastSeq: 0 }));
				socket.onerror = () => reject(new Error('socket error'));
				socket.onmessage = (message) => {
					const frame = JSON.parse(String(message.data));
					if (frame.type === 'joined') head = frame.head;
					const events = frame.type === 'event' ? [frame.event] : (frame.events ?? []);
					for (const event of events) {
						last = Math.max(last, event.seq);
						if (event.name === 'stage.submitted' && event.payload.stageId === stageId) {
							counts[event.payload.memberId] = (counts[event.payload.memberId] ?? 0) + 1;
						}
					}
					if (head >= 0 && last >= head) finish();
				};
			}),
		{ roomId, stageId }
	);
	await page.close();
	return counts;
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
	const { link, researcher } = await publishStudy(browser, baseURL);
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
	const counts = await countSubmissions(researcher, roomA!, 'about');
	expect(Object.values(counts).sort()).toEqual([1, 1]);
	await Promise.all([a.close(), b.close(), researcher.close()]);
});
