import { expect, test, type Browser, type Page } from '@playwright/test';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';

// Two participants take a dyad study's link: consent, instructions, the ready check, the
// waiting room, and both see their group form. The researcher publishes through the API.

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
	const consent = createStage('consent', []);
	if (consent.type === 'consent') consent.content.markdown = 'We record your answers.';
	study.stages = [
		consent,
		createStage('instructions', ['consent']),
		createStage('chat', ['consent', 'instructions']),
		createStage('end', ['consent', 'instructions', 'chat'])
	];
	return study;
}

/** First-run setup and a published study through the API; returns the study link's path. */
async function publishStudy(browser: Browser, baseURL: string): Promise<string> {
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
	expect((await request.post(`/api/studies/${id}/publish`, { headers })).status()).toBe(201);
	await context.close();
	return `/s/${detail.slug}`;
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

test('two participants consent, pass the ready check, wait and are grouped', async ({
	browser
}, testInfo) => {
	const baseURL = testInfo.project.use.baseURL!;
	const link = await publishStudy(browser, baseURL);
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

	// B completes the group: formed at once, so B goes straight to it; A learns it from its
	// next heartbeat (every 5 s).
	await passReadyCheck(pageB, link);
	for (const page of [pageA, pageB]) {
		await expect(page.getByRole('heading', { name: 'Your group is ready' })).toBeVisible({
			timeout: 15_000
		});
	}
	const roomA = await pageA.locator('[data-room-id]').getAttribute('data-room-id');
	const roomB = await pageB.locator('[data-room-id]').getAttribute('data-room-id');
	expect(roomA).toBeTruthy();
	expect(roomA).toBe(roomB);

	await pageB.reload();
	await expect(pageB.getByRole('heading', { name: 'Your group is ready' })).toBeVisible();
	await Promise.all([a.close(), b.close()]);
});
