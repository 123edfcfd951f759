import { expect, test, type Page } from '@playwright/test';
import { openActor, type Actor } from './support/actors';

/**
 * The browser client in a real room: two experimenters in their own browser contexts open a
 * sandbox room, see each other, chat, reload, and lose the network for a while. Runs against
 * its own fresh server (see playwright.config.ts).
 */
test.describe.configure({ mode: 'serial' });

const ada = { name: 'Ada Admin', email: 'ada@rt.test', password: 'realtime admin phrase 1' };
const grace = {
	name: 'Grace Colleague',
	email: 'grace@rt.test',
	password: 'realtime colleague phrase 2'
};

const actors: Actor[] = [];

async function createAccount(page: Page, person: typeof ada) {
	await page.getByLabel('Name').fill(person.name);
	if (await page.getByLabel('Email').isEditable())
		await page.getByLabel('Email').fill(person.email);
	await page.getByLabel('Password', { exact: true }).fill(person.password);
	await page.getByLabel('Repeat password').fill(person.password);
	await page.getByRole('button', { name: /create/i }).click();
	await expect(page).toHaveURL(/\/studies$/);
}

const status = (page: Page) => page.getByRole('status').filter({ has: page.locator('.dot') });

let first: Actor;
let second: Actor;
let roomPath = '';

test.afterAll(async () => {
	for (const actor of actors) await actor.context.close();
});

test.afterEach(() => {
	for (const actor of actors) expect(actor.cspErrors).toEqual([]);
});

test('two experimenters open the same sandbox room and see each other', async ({
	browser,
	baseURL
}) => {
	first = await openActor(browser, baseURL!, actors);
	await first.page.goto('/');
	await createAccount(first.page, ada);
	await first.page.getByRole('link', { name: 'Users' }).click();
	await first.page.getByRole('button', { name: 'Create invite link' }).click();
	const invite = await first.page.getByTestId('invite-url').inputValue();

	second = await openActor(browser, baseURL!, actors);
	await second.page.goto(invite);
	await createAccount(second.page, grace);

	await first.page.getByRole('link', { name: 'Studies' }).click();
	await first.page.getByRole('button', { name: 'Open a sandbox room' }).click();
	await expect(first.page).toHaveURL(/\/rooms\//);
	roomPath = new URL(first.page.url()).pathname;
	await expect(status(first.page)).toHaveText(/Connected/);

	await second.page.goto(roomPath);
	await expect(status(second.page)).toHaveText(/Connected/);
	for (const actor of [first, second]) {
		await expect(actor.page.getByTestId('presence')).toContainText(ada.name);
		await expect(actor.page.getByTestId('presence')).toContainText(grace.name);
	}
});

test('messages reach the other person; a reload resumes with everything', async () => {
	await second.page.getByLabel('Message').fill('Hello from Grace');
	await second.page.getByRole('button', { name: 'Send' }).click();
	await expect(first.page.getByTestId('chat-message')).toContainText(['Hello from Grace']);
	await first.page.getByLabel('Message').fill('Hello back from Ada');
	await first.page.getByRole('button', { name: 'Send' }).click();
	await expect(second.page.getByTestId('chat-message')).toHaveText([
		/Hello from Grace/,
		/Hello back from Ada/
	]);

	await second.page.reload();
	await expect(status(second.page)).toHaveText(/Connected/);
	await expect(second.page.getByTestId('chat-message')).toHaveText([
		/Hello from Grace/,
		/Hello back from Ada/
	]);
});

test('a dropped connection resumes: messages from both sides arrive exactly once', async () => {
	// Every room socket of Grace's goes through this proxy, so the test can cut it.
	let offline = false;
	const proxied: { close: () => Promise<void> }[] = [];
	await second.context.routeWebSocket(/\/realtime\/rooms\//, (ws) => {
		if (offline) return void ws.close({ code: 4000, reason: 'simulated network outage' });
		ws.connectToServer();
		proxied.push({ close: () => ws.close({ code: 4000, reason: 'simulated network outage' }) });
	});
	await second.page.reload();
	await expect(status(second.page)).toHaveText(/Connected/);

	offline = true;
	for (const socket of proxied) await socket.close();
	await expect(status(second.page)).toHaveText(/Reconnecting|Connecting/);
	await first.page.getByLabel('Message').fill('While you were away');
	await first.page.getByRole('button', { name: 'Send' }).click();
	await second.page.getByLabel('Message').fill('Written offline');
	await second.page.getByRole('button', { name: 'Send' }).click();
	await expect(status(second.page)).toContainText('saving 1');

	offline = false;
	await expect(status(second.page)).toHaveText(/Connected/, { timeout: 30_000 });
	const all = [/Hello from Grace/, /Hello back from Ada/, /While you were away/, /Written offline/];
	await expect(second.page.getByTestId('chat-message')).toHaveText(all);
	await expect(first.page.getByTestId('chat-message')).toHaveText(all);
});
