import { expect, test, type Browser, type Page } from '@playwright/test';
import { findStudyTemplate } from '../../src/lib/study';

// A focus-room study (open mode) by invite code: participant A starts a room from the study
// link and reads its code off the page; B types the code (as people do: lower case, a dash)
// and joins. Both reach the room's first stage together, move on to the focus session and
// see each other's chat messages. The researcher only publishes, through the API.

const ADMIN = { name: 'Olu Open', email: 'olu@open-room.test', password: 'sturdy evening lantern' };

/** First-run setup, then the focus-room template published; returns the study link's path. */
async function publishFocusRoom(browser: Browser, baseURL: string): Promise<string> {
	const context = await browser.newContext({ baseURL });
	const request = context.request;
	const headers = { origin: baseURL };
	const setup = await request.post('/setup', {
		headers: { ...headers, accept: 'text/html' },
		form: { ...ADMIN, confirm: ADMIN.password },
		maxRedirects: 0
	});
	expect(setup.status()).toBe(303);
	const created = await request.post('/api/studies', { headers, data: { title: 'Focus' } });
	const { id } = (await created.json()) as { id: string };
	const detail = (await (await request.get(`/api/studies/${id}`)).json()) as {
		revision: number;
		slug: string;
	};
	const definition = findStudyTemplate('focus-room')!.create({ demoMediaId: null });
	const saved = await request.put(`/api/studies/${id}`, {
		headers,
		data: { definition, revision: detail.revision }
	});
	expect(saved.ok(), await saved.text()).toBe(true);
	const published = await request.post(`/api/studies/${id}/publish`, { headers });
	expect(published.status(), await published.text()).toBe(201);
	await context.close();
	return `/s/${detail.slug}`;
}

/** From the study link through the ready check, to where one joins or starts a room. */
async function passReadyCheck(page: Page, link: string): Promise<void> {
	await page.goto(link);
	await expect(page.getByRole('heading', { name: 'Focus room' })).toBeVisible();
	await page.getByRole('button', { name: 'Start' }).click();
	await expect(page.getByRole('heading', { name: 'Ready check' })).toBeVisible();
	await expect(page.getByText('Your browser supports this study.')).toBeVisible();
	await page.getByRole('button', { name: 'Turn on sound' }).click();
}

let link = '';

test.beforeAll(async ({ browser }, testInfo) => {
	link = await publishFocusRoom(browser, testInfo.project.use.baseURL!);
});

/** A starts a room and reads its code; B mistypes once, then joins with the code as typed. */
async function meetByInviteCode(pageA: Page, pageB: Page): Promise<string> {
	await passReadyCheck(pageA, link);
	await pageA.getByRole('button', { name: 'Start a new room' }).click();
	await expect(pageA.getByRole('heading', { name: 'Welcome', exact: true })).toBeVisible({
		timeout: 15_000
	});
	const invite = pageA.getByText('Invite others with the code').locator('strong');
	await expect(invite).toHaveText(/^[A-Z0-9]{6}$/);
	const code = (await invite.textContent())!;

	// B mistypes first: a clear message, still at the ready check.
	await passReadyCheck(pageB, link);
	await pageB.getByLabel('Invite code').fill(code === 'AAAAAA' ? 'CCCCCC' : 'AAAAAA');
	await pageB.getByRole('button', { name: 'Join room' }).click();
	await expect(
		pageB.getByText('There is no open room with this code. Please check it.')
	).toBeVisible();
	// Then types it as people do: lower case, with a dash.
	await pageB.getByLabel('Invite code').fill(`${code.slice(0, 3)}-${code.slice(3)}`.toLowerCase());
	await pageB.getByRole('button', { name: 'Join room' }).click();
	return code;
}

test('a second participant joins the room by its invite code', async ({ browser }, testInfo) => {
	const baseURL = testInfo.project.use.baseURL!;
	const [a, b] = [await browser.newContext({ baseURL }), await browser.newContext({ baseURL })];
	const [pageA, pageB] = [await a.newPage(), await b.newPage()];
	await meetByInviteCode(pageA, pageB);
	// B lands in A's room and connects to it.
	await expect(pageB.getByRole('region', { name: 'Your group' })).toBeVisible({ timeout: 15_000 });
	await expect(pageB.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
	const roomA = await pageA.locator('[data-room-id]').getAttribute('data-room-id');
	const roomB = await pageB.locator('[data-room-id]').getAttribute('data-room-id');
	expect(roomA).toBeTruthy();
	expect(roomB).toBe(roomA);
	await Promise.all([a.close(), b.close()]);
});

test("both see the first stage, move on together and see each other's chat", async ({
	browser
}, testInfo) => {
	// B joins a room A's socket already loaded: B enters through `member.join` (live-room.ts).
	const baseURL = testInfo.project.use.baseURL!;
	const [a, b] = [await browser.newContext({ baseURL }), await browser.newContext({ baseURL })];
	const [pageA, pageB] = [await a.newPage(), await b.newPage()];
	const code = await meetByInviteCode(pageA, pageB);

	for (const page of [pageA, pageB]) {
		await expect(page.getByRole('heading', { name: 'Welcome', exact: true })).toBeVisible({
			timeout: 15_000
		});
		await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
	}
	await expect(pageB.getByText('Invite others with the code').locator('strong')).toHaveText(code);

	// The welcome page has no chat; the focus session does. Both move on, then talk.
	for (const page of [pageA, pageB]) {
		await page.getByRole('button', { name: 'Start focusing' }).click();
	}
	for (const page of [pageA, pageB]) {
		await expect(page.getByRole('heading', { name: 'Focus session' })).toBeVisible();
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
	await Promise.all([a.close(), b.close()]);
});
