import { expect, test } from '@playwright/test';
import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
	type Stage,
	type StudyDefinition
} from '../../src/lib/study';
import { publishStudy, signInResearcher } from './support/researcher';

// A researcher pilots a dyad study with bots, opens the Data tab, sees the row counts, and
// downloads the responses and events as CSV: the files parse and hold the rows the page counted.

function makePilotStudy(): StudyDefinition {
	const study = createBlankStudy('Data e2e');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	const survey = { ...createStage('questionnaire', []), id: 'survey', title: 'About you' } as Stage;
	if (survey.type === 'questionnaire') {
		survey.content.items = [
			{ ...createQuestionItem('likert', []), id: 'mood', prompt: 'Mood today' },
			{ ...createQuestionItem('short_text', []), id: 'word', prompt: 'One word' }
		];
	}
	const pick = { ...createStage('group_choice', []), id: 'pick', title: 'Pick' } as Stage;
	if (pick.type === 'group_choice') pick.content.prompt = 'Which one?';
	study.stages = [survey, pick, { ...createStage('end', []), id: 'end' } as Stage];
	return study;
}

test('a researcher downloads bot pilot data from the Data tab as CSV', async ({
	browser
}, testInfo) => {
	const baseURL = testInfo.project.use.baseURL!;
	const researcher = await signInResearcher(browser, baseURL);
	const { id } = await publishStudy(researcher, baseURL, makePilotStudy());

	const started = await researcher.request.post(`/api/studies/${id}/bots`, {
		headers: { origin: baseURL },
		data: { count: 2, thinkMs: [10, 50], chat: false, seed: 3 }
	});
	expect(started.status(), await started.text()).toBe(202);
	await expect
		.poll(
			async () => {
				const response = await researcher.request.get(`/api/studies/${id}/bots`);
				const { bots } = (await response.json()) as { bots: { outcome: string | null }[] };
				return bots.filter((bot) => bot.outcome === 'completed').length;
			},
			{ timeout: 60_000 }
		)
		.toBe(2);

	const page = await researcher.newPage();
	await page.goto(`/studies/${id}/data`);
	await expect(page.getByRole('heading', { name: 'Data', exact: true })).toBeVisible();
	await expect(page.getByRole('link', { name: 'Data', exact: true })).toHaveAttribute(
		'aria-current',
		'page'
	);
	// Two bots × two questionnaire items + one pick each.
	await expect(page.getByTestId('count-responses')).toHaveText('6');
	await expect(page.getByTestId('count-participants')).toHaveText('2');
	const eventCount = Number(await page.getByTestId('count-events').textContent());
	expect(eventCount).toBeGreaterThan(4);

	for (const [dataset, label, expected] of [
		['responses', 'Responses', 6],
		['events', 'Events', eventCount]
	] as const) {
		const downloading = page.waitForEvent('download');
		await page.getByRole('button', { name: `Download ${label} as CSV` }).click();
		const download = await downloading;
		expect(download.suggestedFilename()).toMatch(
			new RegExp(`^data-e2e_${dataset}_\\d{8}T\\d{6}Z\\.csv$`)
		);
		const records = parse(readFileSync((await download.path())!), { columns: true }) as Record<
			string,
			string
		>[];
		expect(records).toHaveLength(expected);
		await expect(page.getByTestId(`progress-${dataset}`)).toContainText(`${expected} rows`);
		if (dataset === 'responses') {
			expect(records.map((r) => r.item_id).sort()).toEqual([
				'mood',
				'mood',
				'option',
				'option',
				'word',
				'word'
			]);
			expect(records.every((r) => r.is_bot === 'true')).toBe(true);
		}
	}

	// Excluding bots leaves nothing: the counts follow the filter.
	await page.getByLabel('Bots', { exact: true }).selectOption('exclude');
	await expect(page.getByTestId('count-responses')).toHaveText('0');
	await expect(page.getByTestId('count-events')).toHaveText('0');
	await researcher.close();
});
