import { expect, test, type Page } from '@playwright/test';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';
import { publishStudy, readRoomLog, signInResearcher } from './support/researcher';

// Issue 14 §6: when a replica died right at a chat stage's deadline, the page reconnected and
// resent the messages typed just before; the new replica had already ended the stage, refused
// them, and the page showed nothing because the chat box was gone. Here the page's socket holds
// a message back (as a dying replica would never answer it), the researcher moves the room on,
// the socket drops, and the page's resend is refused: the room page itself must say so.

function makeChatStudy(): StudyDefinition {
	const study = createBlankStudy('Refusals e2e');
	study.settings.participantTitle = 'Chat, then move on';
	study.settings.session = {
		mode: 'matched',
		groupSize: 1,
		minGroupSize: 1,
		lobbyTimeoutSeconds: 300
	};
	const chat = {
		...createStage('chat', []),
		id: 'talk',
		title: 'Chat together',
		advance: 'experimenter',
		durationSeconds: null
	} as const;
	const after = {
		...createStage('instructions', ['talk']),
		id: 'after',
		title: 'Thanks for chatting',
		advance: 'experimenter'
	} as const;
	study.stages = [chat, after, createStage('end', ['talk', 'after'])];
	return study;
}

async function enterRoom(page: Page, link: string): Promise<void> {
	await page.goto(link);
	await page.getByRole('button', { name: 'Start' }).click();
	await page.getByRole('button', { name: 'Turn on sound' }).click();
	await page.getByRole('button', { name: 'Continue to the waiting room' }).click();
	await expect(page.getByRole('heading', { name: 'Chat together' })).toBeVisible({
		timeout: 15_000
	});
	await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
}

for (const width of [1280, 390]) {
	test(`a resent chat message refused after the stage ended is shown on the room page (${width} px)`, async ({
		browser
	}, testInfo) => {
		const baseURL = testInfo.project.use.baseURL!;
		const researcher = await signInResearcher(browser, baseURL);
		const study = await publishStudy(researcher, baseURL, makeChatStudy());
		const context = await browser.newContext({
			baseURL,
			viewport: { width, height: width > 600 ? 800 : 844 }
		});
		const page = await context.newPage();

		// The first room socket never forwards chat messages (the replica dies before it has
		// them); every later socket passes everything through.
		let sockets = 0;
		const held: string[] = [];
		let dropFirst: () => void = () => {};
		await page.routeWebSocket(/\/realtime\//, (socket) => {
			const server = socket.connectToServer();
			const first = ++sockets === 1;
			socket.onMessage((message) => {
				const text = String(message);
				if (first && text.includes('"chat.send"')) held.push(text);
				else server.send(message);
			});
			if (first) {
				dropFirst = () => {
					void server.close();
					void socket.close({ code: 1011, reason: 'replica died' });
				};
			}
		});

		await enterRoom(page, study.link);
		const roomId = await page.locator('[data-room-id]').getAttribute('data-room-id');
		await page.getByRole('textbox', { name: 'Message' }).fill('See you at five, then');
		await page.getByRole('button', { name: 'Send' }).click();
		await expect.poll(() => held.length).toBe(1);

		// The stage ends meanwhile (the deadline on the new replica; here, the researcher).
		const advanced = await researcher.request.post(
			`/api/studies/${study.id}/monitor/rooms/${roomId}/commands`,
			{
				headers: { origin: baseURL },
				data: {
					id: crypto.randomUUID(),
					name: 'stage.advance',
					payload: { fromStageId: 'talk', force: true }
				}
			}
		);
		expect(advanced.ok(), await advanced.text()).toBe(true);
		await expect(page.getByRole('heading', { name: 'Thanks for chatting' })).toBeVisible();
		await expect(page.getByRole('textbox', { name: 'Message' })).toHaveCount(0);

		// The socket dies; the page reconnects and resends; the server refuses: wrong stage.
		dropFirst();
		const notice = page.getByRole('region', { name: 'Not saved' }).getByRole('alert');
		await expect(notice).toContainText(
			'Your message “See you at five, then” was not sent: the chat had already ended.'
		);
		expect(sockets).toBeGreaterThanOrEqual(2);
		await expect(notice).toBeInViewport();
		await page.screenshot({ path: testInfo.outputPath(`refusal-${width}.png`) });

		// Nothing was stored, and the notice goes when dismissed.
		const log = await readRoomLog(researcher, roomId!);
		expect(log.filter((event) => event.name === 'chat.sent')).toEqual([]);
		await notice.getByRole('button', { name: /^Dismiss/ }).click();
		await expect(notice).toHaveCount(0);
		await Promise.all([context.close(), researcher.close()]);
	});
}
