import { expect, test } from '@playwright/test';
import { openActor, type Actor } from './support/actors';
import {
	enterWaitingRoom,
	makeMonitorStudy,
	MONITOR_CODE,
	readStageShownAt,
	roomCard,
	watchStageText
} from './support/monitor';
import { publishStudy, readRoomLog } from './support/researcher';
import { signInResearcher } from './support/researcher';

// The live monitor with a researcher and two participants, each in their own browser context:
// the waiting room and the grid follow the participants as they move (the stage change is on
// the grid within a second, measured), and the researcher's interventions — advance, a message,
// end — reach the participants and are in the room's log with the researcher as actor.

test('the researcher watches a dyad live and steers it from the monitor', async ({
	browser
}, testInfo) => {
	test.setTimeout(120_000);
	const baseURL = testInfo.project.use.baseURL!;
	const researcher = await signInResearcher(browser, baseURL);
	const { id: studyId, link } = await publishStudy(researcher, baseURL, makeMonitorStudy());
	const { user } = (await (await researcher.request.get('/api/me')).json()) as {
		user: { id: string };
	};

	const monitor = await researcher.newPage();
	const cspErrors: string[] = [];
	monitor.on('console', (message) => {
		if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
			cspErrors.push(message.text());
		}
	});
	await monitor.goto(`/studies/${studyId}/monitor`);
	await expect(monitor.getByTestId('monitor-status')).toHaveText('Live');
	await expect(monitor.getByText('No room is running.')).toBeVisible();
	await expect(monitor.getByText('Nobody is waiting.')).toBeVisible();

	const actors: Actor[] = [];
	const a = await openActor(browser, baseURL, actors);
	const b = await openActor(browser, baseURL, actors);

	// A waits: the monitor's waiting room shows them without a reload.
	await enterWaitingRoom(a.page, link);
	const waiting = monitor.getByRole('region', { name: 'Waiting room' });
	await expect(waiting.locator('tr[data-waiter-id]')).toHaveCount(1);
	await expect(waiting.getByText('1 waiting (groups of 2)')).toBeVisible();

	// B completes the group: the room appears on the grid with both members, and the waiting
	// room empties.
	await enterWaitingRoom(b.page, link, true);
	for (const page of [a.page, b.page]) {
		await expect(page.getByRole('heading', { name: 'Hello' })).toBeVisible({ timeout: 15_000 });
		await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
	}
	const card = roomCard(monitor);
	await expect(card).toHaveCount(1);
	await expect(card.getByTestId('room-stage')).toHaveText('Stage 1 of 4: Hello');
	await expect(card.locator('tr[data-member-id]')).toHaveCount(2);
	await expect(card.locator('td[data-field="connected"]')).toHaveText(['yes', 'yes']);
	await expect(waiting.getByText('Nobody is waiting.')).toBeVisible();
	const roomId = await card.getAttribute('data-room-id');
	const roomOfA = await a.page.locator('[data-room-id]').getAttribute('data-room-id');
	expect(roomId).toBe(roomOfA);

	// A confirms: the grid shows one of two submitted.
	await a.page.getByRole('button', { name: 'Continue' }).click();
	await expect(card.getByText('1 of 2 submitted')).toBeVisible();
	// Rows follow the room's member order, which formation chooses: B is the one not submitted.
	const rowOfB = card.locator('tr[data-member-id]').filter({
		has: monitor.locator('td[data-field="submitted"]', { hasText: 'no' })
	});
	await expect(rowOfB).toHaveCount(1);
	const memberIdOfB = await rowOfB.getAttribute('data-member-id');

	// B confirms, which moves the room on: measured from the click to the grid's change.
	await watchStageText(monitor, 'Stage 2 of 4');
	const clickedAt = Date.now();
	await b.page.getByRole('button', { name: 'Continue' }).click();
	const shownAt = await readStageShownAt(monitor);
	const latency = shownAt - clickedAt;
	console.info(`monitor e2e: participant click → grid shows the new stage in ${latency} ms`);
	expect(latency).toBeLessThan(1_000);
	await expect(card.getByTestId('room-stage')).toHaveText('Stage 2 of 4: Talk');
	for (const page of [a.page, b.page]) {
		await expect(page.getByRole('heading', { name: 'Talk' })).toBeVisible();
	}

	// Advance from the monitor: the chat ends for both participants.
	await card.getByRole('button', { name: 'Advance' }).click();
	await expect(card.getByRole('status')).toHaveText('Moved to the next stage.');
	for (const page of [a.page, b.page]) {
		await expect(page.getByRole('heading', { name: 'Wrap up' })).toBeVisible();
	}
	await expect(card.getByTestId('room-stage')).toHaveText('Stage 3 of 4: Wrap up');

	// A message to the room, and one to B alone.
	await card.getByRole('textbox', { name: 'Message' }).fill('Almost done, thank you!');
	await card.getByRole('button', { name: 'Send message' }).click();
	await expect(card.getByRole('status')).toHaveText('Message sent to everyone in the room.');
	const memberIds = await card
		.locator('tr[data-member-id]')
		.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-member-id')));
	const labelOfB = `Member ${memberIds.indexOf(memberIdOfB) + 1}`;
	await card
		.locator(`tr[data-member-id="${memberIdOfB}"]`)
		.getByRole('button', { name: 'Message' })
		.click();
	await card.getByRole('textbox', { name: 'Message' }).fill('B, please stay a moment.');
	await card.getByRole('button', { name: 'Send message' }).click();
	await expect(card.getByRole('status')).toHaveText(`Message sent to ${labelOfB}.`);
	const notices = (page: typeof a.page) =>
		page.getByRole('status', { name: 'Messages from the experimenter' });
	await expect(notices(a.page)).toContainText('Almost done, thank you!');
	await expect(notices(b.page)).toContainText('Almost done, thank you!');
	await expect(notices(b.page)).toContainText('B, please stay a moment.');
	await expect(notices(a.page)).not.toContainText('B, please stay a moment.');

	// End the room as completed: both participants get the completion code.
	await card.getByText('End room…').click();
	await card.getByLabel('Outcome for everyone still in').selectOption('completed');
	await card.getByRole('button', { name: 'End the room' }).click();
	for (const page of [a.page, b.page]) {
		await expect(page.getByText(`Your completion code: ${MONITOR_CODE}`)).toBeVisible();
	}
	// The room leaves the grid for the finished list; the counts say two completed.
	await expect(monitor.getByText('No room is running.')).toBeVisible();
	const finished = monitor.getByRole('region', { name: 'Finished rooms' });
	await expect(
		finished.locator(`tr[data-room-id="${roomId}"] td[data-field="outcome"]`)
	).toHaveText('completed');
	const outcomes = monitor.getByRole('region', { name: 'Outcomes' });
	await expect(outcomes.locator('tr[data-outcome="completed"] td').last()).toHaveText('2');

	// Every intervention is in the room's log, with the researcher as its actor.
	const log = (await readRoomLog(researcher, roomId!)) as (Awaited<
		ReturnType<typeof readRoomLog>
	>[number] & { actor: string })[];
	const byResearcher = log.filter((event) => event.actor === `u:${user.id}`);
	expect(byResearcher.map((event) => event.name)).toEqual([
		'stage.advanced',
		'room.message',
		'room.message',
		'member.outcome',
		'member.outcome',
		'room.finished'
	]);
	expect(byResearcher[0]!.payload).toMatchObject({
		fromStageId: 'talk',
		toStageId: 'wrap',
		cause: 'experimenter'
	});
	expect(byResearcher.at(-1)!.payload).toMatchObject({ outcome: 'completed' });
	// The stage change the participants made themselves is theirs, not the researcher's.
	expect(log.find((e) => e.name === 'stage.advanced')?.actor).not.toBe(`u:${user.id}`);

	expect(cspErrors).toEqual([]);
	for (const actor of actors) expect(actor.cspErrors).toEqual([]);
	await Promise.all([...actors.map((actor) => actor.context.close()), researcher.close()]);
});
