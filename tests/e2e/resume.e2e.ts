import { expect, test, type Browser, type BrowserContext } from '@playwright/test';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';
import { publishStudy, signInResearcher } from './support/researcher';

// A resume link moves a participation to another browser. When the browser already takes part
// as someone else, the page asks before switching (it used to switch silently): it says what
// each session is and what switching does, on a wide screen and on a phone. Screenshots of the
// question land in the test output (resume-1280.png, resume-390.png).

function makeStudy(): StudyDefinition {
	const study = createBlankStudy('Resume e2e');
	study.settings.participantTitle = 'Resuming elsewhere';
	const consent = createStage('consent', []);
	if (consent.type === 'consent') consent.content.markdown = 'We keep your answers.';
	study.stages = [
		consent,
		createStage('instructions', ['consent']),
		createStage('end', ['consent', 'instructions'])
	];
	return study;
}

/** The participant token the study's cookie holds in `context`. */
async function participantToken(context: BrowserContext): Promise<string> {
	const cookie = (await context.cookies()).find((c) => c.name.startsWith('ensemble_p_'));
	expect(cookie).toBeTruthy();
	return cookie!.value;
}

/** A participant in a context of its own: Start, and consent when `agree`. */
async function joinAs(
	browser: Browser,
	baseURL: string,
	link: string,
	viewport: { width: number; height: number },
	agree: boolean
): Promise<BrowserContext> {
	const context = await browser.newContext({ baseURL, viewport });
	const page = await context.newPage();
	await page.goto(link);
	await page.getByRole('button', { name: 'Start' }).click();
	await expect(page.getByRole('button', { name: 'I agree' })).toBeVisible();
	if (agree) {
		await page.getByRole('button', { name: 'I agree' }).click();
		await expect(page.getByRole('button', { name: 'Continue' })).toBeVisible();
	}
	await page.close();
	return context;
}

test('a resume link for another participant asks first, at 1280 and 390 px', async ({
	browser
}, testInfo) => {
	const baseURL = testInfo.project.use.baseURL!;
	const researcher = await signInResearcher(browser, baseURL);
	const { link } = await publishStudy(researcher, baseURL, makeStudy());

	for (const viewport of [
		{ width: 1280, height: 800 },
		{ width: 390, height: 844 }
	]) {
		// "Me": consented, on page 2. "Them": just started, on page 1, in another browser.
		const me = await joinAs(browser, baseURL, link, viewport, true);
		const them = await joinAs(browser, baseURL, link, viewport, false);
		const mine = await participantToken(me);
		const theirs = await participantToken(them);
		expect(theirs).not.toBe(mine);

		const page = await me.newPage();
		await page.goto(`${link}?resume=${theirs}`);
		await expect(
			page.getByRole('heading', { name: 'This link continues a different session' })
		).toBeVisible();
		await expect(page.getByTestId('current-session')).toContainText('answering page 2 of 2');
		await expect(page.getByTestId('other-session')).toContainText('answering page 1 of 2');
		const proceed = page.getByRole('button', { name: 'Continue as the other participant' });
		const keep = page.getByRole('link', { name: 'Keep my current session' });
		await expect(proceed).toBeVisible();
		await expect(keep).toBeVisible();
		// Nothing changed yet: the browser still holds its own participant.
		expect(await participantToken(me)).toBe(mine);
		// Both choices fit the screen without scrolling sideways.
		const width = await page.evaluate(() => document.documentElement.scrollWidth);
		expect(width).toBeLessThanOrEqual(viewport.width);
		await page.screenshot({
			path: testInfo.outputPath(`resume-${viewport.width}.png`),
			fullPage: true
		});

		if (viewport.width === 1280) {
			// Keep: back to my own step, the token gone from the address.
			await keep.click();
			await expect(page).toHaveURL(new RegExp(`${link}$`));
			await expect(page.getByRole('button', { name: 'Continue' })).toBeVisible();
			expect(await participantToken(me)).toBe(mine);
		} else {
			// Continue: this browser is now the other participant, on their step.
			await proceed.click();
			await expect(page).toHaveURL(new RegExp(`${link}$`));
			await expect(page.getByRole('button', { name: 'I agree' })).toBeVisible();
			expect(await participantToken(me)).toBe(theirs);
		}
		await me.close();
		await them.close();
	}
	await researcher.close();
});
