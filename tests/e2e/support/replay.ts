import { expect, type Locator, type Page } from '@playwright/test';
import {
	createBlankStudy,
	createStage,
	type Stage,
	type StudyDefinition
} from '../../../src/lib/study';

/**
 * A dyad study bots can run alone, with stages worth replaying: consent (alone), a group
 * choice everyone must make, a short timed chat, the end.
 */
export function makeReplayStudy(title: string): StudyDefinition {
	const study = createBlankStudy(title);
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	const consent = createStage('consent', []);
	if (consent.type === 'consent') consent.content.markdown = 'We keep your answers.';
	const pick = createStage('group_choice', []);
	if (pick.type === 'group_choice') pick.content.prompt = 'Which one shall we take?';
	study.stages = [
		{ ...consent, id: 'consent' },
		{ ...pick, id: 'pick', title: 'Pick together', advance: 'all_submitted' },
		{
			...createStage('chat', []),
			id: 'talk',
			title: 'Chat together',
			advance: 'timer',
			durationSeconds: 3
		},
		{ ...createStage('end', []), id: 'end', title: 'Thank you' }
	] as Stage[];
	return study;
}

/**
 * The editor's "Pilot with bots" panel: starts `count` bots, then checks on them until all
 * of them finished with the completed outcome.
 */
export async function pilotWithBots(editor: Page, studyId: string, count: number): Promise<void> {
	await editor.goto(`/studies/${studyId}`);
	await editor.getByText('Pilot with bots', { exact: true }).click();
	await editor.getByLabel('Number of bots').fill(String(count));
	await editor.getByRole('button', { name: 'Fill the other seats with bots' }).click();
	await expect(editor.getByText(`Started ${count} bots.`)).toBeVisible();
	const summary = editor.getByRole('status').filter({ hasText: /bots?:/ });
	await expect(async () => {
		await editor.getByRole('button', { name: 'Check on the bots' }).click();
		await expect(summary).toHaveText(`${count} bots: ${count} finished (completed).`, {
			timeout: 1_000
		});
	}).toPass({ timeout: 60_000 });
}

/** A chart by its caption: the figure, and how many values it draws (`data-points`). */
export function chartByTitle(page: Page, title: string): Locator {
	return page
		.locator('figure.chart')
		.filter({ has: page.locator('figcaption', { hasText: title }) });
}

/** Expects the chart drawn on a canvas with at least one value. */
export async function expectDrawnChart(page: Page, title: string): Promise<void> {
	const chart = chartByTitle(page, title);
	await expect(chart.locator('canvas').first()).toBeVisible();
	const points = Number(await chart.getAttribute('data-points'));
	expect(points, `${title}: values drawn`).toBeGreaterThan(0);
	const box = await chart.locator('canvas').first().boundingBox();
	expect(box!.width).toBeGreaterThan(100);
}
