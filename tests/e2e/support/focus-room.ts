import { expect, type Browser, type Page } from '@playwright/test';
import { findStudyTemplate } from '../../../src/lib/study';
import { publishStudy, signInResearcher } from './researcher';

/** The focus-room template published as created; returns the study link's path. */
export async function publishFocusRoom(browser: Browser, baseURL: string): Promise<string> {
	const researcher = await signInResearcher(browser, baseURL);
	const definition = findStudyTemplate('focus-room')!.create({ demoMediaId: null });
	const { link } = await publishStudy(researcher, baseURL, definition);
	await researcher.close();
	return link;
}

/** From the study link through the ready check, to where one joins or starts a room. */
export async function passFocusReadyCheck(page: Page, link: string): Promise<void> {
	await page.goto(link);
	await expect(page.getByRole('heading', { name: 'Focus room' })).toBeVisible();
	await page.getByRole('button', { name: 'Start' }).click();
	await expect(page.getByRole('heading', { name: 'Ready check' })).toBeVisible();
	await expect(page.getByText('Your browser supports this study.')).toBeVisible();
	await page.getByRole('button', { name: 'Turn on sound' }).click();
}

/** A starts a room and reads its code; B mistypes once, then joins with the code as typed. */
export async function meetByInviteCode(pageA: Page, pageB: Page, link: string): Promise<string> {
	await passFocusReadyCheck(pageA, link);
	await pageA.getByRole('button', { name: 'Start a new room' }).click();
	await expect(pageA.getByRole('heading', { name: 'Welcome', exact: true })).toBeVisible({
		timeout: 15_000
	});
	const invite = pageA.getByText('Invite others with the code').locator('strong');
	await expect(invite).toHaveText(/^[A-Z0-9]{6}$/);
	const code = (await invite.textContent())!;

	// B mistypes first: a clear message, still at the ready check.
	await passFocusReadyCheck(pageB, link);
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

/** Both in the focus session, each sees the other's chat message. */
export async function chatBothWays(pageA: Page, pageB: Page): Promise<void> {
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
}
