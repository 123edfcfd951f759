import { expect, test, type Page } from '@playwright/test';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';
import { publishStudy, signInResearcher } from './support/researcher';

// One participant opens their study in a second tab: one socket per participant, the newest
// wins (close 4410). The older tab says so and waits; it never reconnects on its own (the two
// tabs would take the room from each other forever) until the person asks to continue there.

function makeStudy(): StudyDefinition {
	const study = createBlankStudy('Two tabs e2e');
	study.settings.participantTitle = 'Two tabs';
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	const chat = {
		...createStage('chat', []),
		id: 'talk',
		title: 'Chat together',
		advance: 'experimenter',
		durationSeconds: null
	} as const;
	study.stages = [chat, createStage('end', ['talk'])];
	return study;
}

async function enterRoom(page: Page, link: string): Promise<void> {
	await page.goto(link);
	await page.getByRole('button', { name: 'Start' }).click();
	await page.getByRole('button', { name: 'Turn on sound' }).click();
	await page.getByRole('button', { name: 'Continue to the waiting room' }).click();
}

const REPLACED = 'This study is open in another tab or window.';
const status = (page: Page) => page.locator('[role=status][data-status]');

test('a second tab takes over; the first says so, waits, and takes over again when asked', async ({
	browser
}, testInfo) => {
	const baseURL = testInfo.project.use.baseURL!;
	const researcher = await signInResearcher(browser, baseURL);
	const { link } = await publishStudy(researcher, baseURL, makeStudy());
	const a = await browser.newContext({ baseURL });
	const b = await browser.newContext({ baseURL });
	const first = await a.newPage();
	const partner = await b.newPage();
	await enterRoom(first, link);
	await enterRoom(partner, link);
	for (const page of [first, partner]) {
		await expect(page.getByRole('heading', { name: 'Chat together' })).toBeVisible({
			timeout: 15_000
		});
		await expect(status(page)).toHaveAttribute('data-status', 'open');
	}

	// The same participant (same cookie) in a second tab.
	const second = await a.newPage();
	await second.goto(link);
	await expect(second.getByRole('heading', { name: 'Chat together' })).toBeVisible();
	await expect(status(second)).toHaveAttribute('data-status', 'open');
	await expect(first.getByText(REPLACED)).toBeVisible();
	await expect(status(first)).toHaveAttribute('data-status', 'replaced');
	await expect(first.getByRole('heading', { name: 'Chat together' })).toHaveCount(0);

	// Nobody takes anything back on their own: a few seconds later it is still so.
	await first.waitForTimeout(3_000);
	await expect(status(first)).toHaveAttribute('data-status', 'replaced');
	await expect(status(second)).toHaveAttribute('data-status', 'open');
	await expect(status(partner)).toHaveAttribute('data-status', 'open');

	// "Continue here" in the first tab: it takes over, the second tab now says so.
	await first.getByRole('button', { name: 'Continue here' }).click();
	await expect(status(first)).toHaveAttribute('data-status', 'open');
	await expect(first.getByRole('heading', { name: 'Chat together' })).toBeVisible();
	await expect(second.getByText(REPLACED)).toBeVisible();
	await first.getByRole('textbox', { name: 'Message' }).fill('Back in the first tab');
	await first.getByRole('button', { name: 'Send' }).click();
	await expect(
		partner.getByRole('list', { name: 'Chat messages' }).getByText('Back in the first tab')
	).toBeVisible();
	await expect(status(partner)).toHaveAttribute('data-status', 'open');
});
