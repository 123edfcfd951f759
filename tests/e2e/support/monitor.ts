import { expect, type Locator, type Page } from '@playwright/test';
import {
	createBlankStudy,
	createStage,
	type Stage,
	type StudyDefinition
} from '../../../src/lib/study';

/** The completion code participants see when the monitor ends their room as completed. */
export const MONITOR_CODE = 'M0N1T0';

/**
 * A dyad study for the monitor: a timed welcome both confirm (so the room moves by itself once
 * both clicked), a chat only the experimenter ends early, a wrap-up only the experimenter ends.
 */
export function makeMonitorStudy(): StudyDefinition {
	const study = createBlankStudy('Monitor e2e');
	study.settings.participantTitle = 'Watched together';
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 600
	};
	study.settings.outcomes.completed.completionCode = MONITOR_CODE;
	const stage = (type: Stage['type'], id: string, title: string, extra: Partial<Stage>): Stage => {
		const made = { ...createStage(type, []), id, title, ...extra } as Stage;
		if (made.type === 'instructions') made.content.markdown = `${title}: please read this.`;
		return made;
	};
	study.stages = [
		stage('instructions', 'hello', 'Hello', { advance: 'first', durationSeconds: 600 }),
		stage('chat', 'talk', 'Talk', { advance: 'first', durationSeconds: 600 }),
		stage('instructions', 'wrap', 'Wrap up', { advance: 'experimenter', durationSeconds: null }),
		stage('end', 'end', 'End', {})
	];
	return study;
}

/**
 * A participant from the link through the ready check into the waiting room, or straight into
 * the room when they complete a group (`completesGroup`).
 */
export async function enterWaitingRoom(
	page: Page,
	link: string,
	completesGroup = false
): Promise<void> {
	await page.goto(link);
	await expect(page.getByRole('heading', { name: 'Watched together' })).toBeVisible();
	await page.getByRole('button', { name: 'Start' }).click();
	await expect(page.getByRole('heading', { name: 'Ready check' })).toBeVisible();
	await expect(page.getByText('Your browser supports this study.')).toBeVisible();
	await page.getByRole('button', { name: 'Turn on sound' }).click();
	await page.getByRole('button', { name: 'Continue to the waiting room' }).click();
	if (!completesGroup)
		await expect(page.getByRole('heading', { name: 'Waiting room' })).toBeVisible();
}

/** The monitor's card of the one running room. */
export function roomCard(monitor: Page): Locator {
	return monitor.getByRole('region', { name: 'Running rooms' }).locator('article[data-room-id]');
}

/**
 * Starts recording, in the monitor page, when the room card's stage line first reads `text`
 * (Date.now() there; the browser and the test share the machine's clock). Read it with
 * `readStageShownAt`.
 */
export async function watchStageText(monitor: Page, text: string): Promise<void> {
	await monitor.evaluate((wanted) => {
		const target = document.querySelector('[data-testid="room-stage"]');
		if (!target) throw new Error('no room card');
		const record = window as unknown as { __stageShownAt?: number };
		delete record.__stageShownAt;
		const observer = new MutationObserver(() => {
			const line = document.querySelector('[data-testid="room-stage"]');
			if (line?.textContent?.includes(wanted) && record.__stageShownAt === undefined) {
				record.__stageShownAt = Date.now();
				observer.disconnect();
			}
		});
		observer.observe(document.body, { subtree: true, childList: true, characterData: true });
	}, text);
}

/** When the watched stage text appeared (ms since the epoch), waiting for it up to 5 s. */
export async function readStageShownAt(monitor: Page): Promise<number> {
	const handle = await monitor.waitForFunction(
		() => (window as unknown as { __stageShownAt?: number }).__stageShownAt,
		undefined,
		{ timeout: 5_000 }
	);
	return (await handle.jsonValue()) as number;
}
