import { expect, test } from '@playwright/test';
import { chatBothWays, meetByInviteCode, publishFocusRoom } from './support/focus-room';

// A focus-room study (open mode) by invite code: participant A starts a room from the study
// link and reads its code off the page; B types the code (as people do: lower case, a dash)
// and joins. Both reach the room's first stage together, move on to the focus session and
// see each other's chat messages. The researcher only publishes, through the API.

let link = '';

test.beforeAll(async ({ browser }, testInfo) => {
	link = await publishFocusRoom(browser, testInfo.project.use.baseURL!);
});

test('a second participant joins the room by its invite code', async ({ browser }, testInfo) => {
	const baseURL = testInfo.project.use.baseURL!;
	const [a, b] = [await browser.newContext({ baseURL }), await browser.newContext({ baseURL })];
	const [pageA, pageB] = [await a.newPage(), await b.newPage()];
	await meetByInviteCode(pageA, pageB, link);
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
	const code = await meetByInviteCode(pageA, pageB, link);

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
	await chatBothWays(pageA, pageB);
	await Promise.all([a.close(), b.close()]);
});
