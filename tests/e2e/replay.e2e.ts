import { expect, test } from '@playwright/test';
import { publishStudy, readRoomLog, signInResearcher } from './support/researcher';
import { chartByTitle, expectDrawnChart, makeReplayStudy, pilotWithBots } from './support/replay';

// A researcher pilots a dyad study with two bots, then reads back what happened: the Rooms tab
// lists the room, its page replays the session from the log (the scrubber moves the room
// through its stages, play runs it forward), its plots are drawn, and the Plots tab shows the
// study's funnel. No Content Security Policy violation on the way.

test('a researcher replays a piloted room, sees its plots and the study funnel', async ({
	browser
}, testInfo) => {
	test.setTimeout(150_000);
	const baseURL = testInfo.project.use.baseURL!;
	const researcher = await signInResearcher(browser, baseURL);
	const cspErrors: string[] = [];
	researcher.on('console', (message) => {
		if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
			cspErrors.push(message.text());
		}
	});
	const title = `Replay e2e ${testInfo.workerIndex}-${Date.now()}`;
	const { id } = await publishStudy(researcher, baseURL, makeReplayStudy(title));
	const page = await researcher.newPage();
	await pilotWithBots(page, id, 2);

	// Rooms tab: one finished room with its two bots.
	await page
		.getByRole('navigation', { name: 'Study' })
		.getByRole('link', { name: 'Rooms' })
		.click();
	await expect(page.getByRole('heading', { name: 'Rooms', level: 1 })).toBeVisible();
	const rows = page.locator('tbody tr[data-room-id]');
	await expect(rows).toHaveCount(1);
	await expect(rows.first()).toContainText('finished');
	await expect(rows.first()).toContainText('(2 bots)');
	await expect(rows.first()).toContainText('2 completed');
	const roomId = (await rows.first().getAttribute('data-room-id'))!;
	await rows.first().getByRole('link').click();

	// The replay starts at the room as formed: on its first room stage, nobody answered yet.
	await expect(page.getByRole('heading', { name: 'Session replay' })).toBeVisible();
	const stage = page.locator('.moment .stage');
	await expect(stage).toContainText('Stage 2 of 4: Pick together');
	const scrubber = page.getByRole('slider', { name: 'Position in the session' });
	await expect(scrubber).toHaveValue('0');
	const log = await readRoomLog(researcher, roomId);
	await expect(scrubber).toHaveAttribute('max', String(log.length));
	await expect(page.locator('.events li[data-seq]').first()).toBeVisible();

	// Keyboard: End jumps to the last event — the room finished on the last stage.
	await scrubber.focus();
	await page.keyboard.press('End');
	await expect(scrubber).toHaveValue(String(log.length));
	await expect(stage).toContainText('Stage 4 of 4: Thank you');
	await expect(page.locator('.moment')).toContainText('Finished');
	await expect(page.locator('.events li[aria-current="step"]')).toHaveAttribute(
		'data-seq',
		String(log.length)
	);

	// Right after the first advance the room is on the chat.
	const firstAdvance = log.find((event) => event.name === 'stage.advanced')!.seq;
	await page.keyboard.press('Home');
	await expect(stage).toContainText('Pick together');
	for (let i = 0; i < firstAdvance; i++) await page.keyboard.press('ArrowRight');
	await expect(scrubber).toHaveValue(String(firstAdvance));
	await expect(stage).toContainText('Stage 3 of 4: Chat together');
	await page.getByRole('button', { name: 'Previous event' }).click();
	await expect(stage).toContainText('Pick together');

	// Playing at 60× runs the room forward through the log to its end.
	await scrubber.focus();
	await page.keyboard.press('Home');
	await page.getByLabel('Speed').selectOption('60');
	await page.getByRole('button', { name: 'Play' }).click();
	await expect(page.getByRole('button', { name: 'Pause' })).toBeVisible();
	await expect(stage).toContainText('Thank you', { timeout: 15_000 });
	await expect(scrubber).toHaveValue(String(log.length));
	await expect(page.getByRole('button', { name: 'Play' })).toBeVisible();

	// The room's plots: stage durations are drawn; telemetry plots say there is none.
	await expectDrawnChart(page, 'Time on each stage in this room');
	await expect(chartByTitle(page, 'Time on each stage in this room')).toHaveAttribute(
		'data-points',
		'3'
	);
	await expect(chartByTitle(page, 'Sync error over the session')).toContainText(
		'No synchronized video was played in this room.'
	);
	await chartByTitle(page, 'Time on each stage in this room')
		.getByRole('button', { name: 'Show the numbers' })
		.click();
	await expect(
		chartByTitle(page, 'Time on each stage in this room').getByRole('rowheader', {
			name: 'Chat together'
		})
	).toBeVisible();
	await expect(page.getByRole('heading', { name: 'Recordings' })).toBeVisible();
	await expect(page.getByText('No recordings in this room.')).toBeVisible();

	// The Plots tab: the funnel counts the two bots at every step.
	await page
		.getByRole('navigation', { name: 'Study' })
		.getByRole('link', { name: 'Plots' })
		.click();
	await expect(page.getByRole('heading', { name: 'Outcome funnel' })).toBeVisible();
	await expectDrawnChart(page, 'Participants at each step');
	for (const step of ['arrived', 'consented', 'matched', 'completed']) {
		await expect(page.locator(`tr[data-step="${step}"] td`).nth(1)).toHaveText('2 (100%)');
	}
	await expectDrawnChart(page, 'Median time per stage');
	expect(cspErrors).toEqual([]);
	await researcher.close();
});
