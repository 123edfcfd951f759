import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { openActor, type Actor } from './support/actors';

/**
 * The study designer, told as one researcher's story against a fresh server: create a study
 * from a template, edit and reorder its stages (autosaved, surviving reloads), break and fix a
 * setting, undo, publish and share the link, pause and resume, export and import it again; then
 * a colleague in their own browser, first view-only, then editing at the same time.
 */
test.describe.configure({ mode: 'serial' });

const admin = {
	name: 'Dana Designer',
	email: 'dana@designer.test',
	password: 'designer e2e phrase 1'
};
const reviewer = {
	name: 'Rafael Reviewer',
	email: 'rafael@designer.test',
	password: 'designer e2e phrase 2'
};
const STUDY_TITLE = 'Focus room (e2e)';

const actors: Actor[] = [];
let actor: Actor;
let colleague: Actor;
let page: Page;
let studyPath = '';
let exported: { definition: { settings: { title: string }; stages: { title: string }[] } };

const saveState = (p: Page) => p.getByTestId('save-state');
const stageTitles = (p: Page) => p.getByTestId('stage-title');
const outline = (p: Page) => p.getByRole('navigation', { name: 'Study outline' });

/** Waits until autosave has caught up with every change made so far. */
async function expectSaved(p: Page): Promise<void> {
	await expect(saveState(p)).toHaveText('All changes saved');
}

test.beforeAll(async ({ browser }, testInfo) => {
	const baseURL = testInfo.project.use.baseURL!;
	actor = await openActor(browser, baseURL, actors);
	await actor.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
	page = actor.page;
});

test.afterEach(() => {
	expect(actors.flatMap((a) => a.cspErrors)).toEqual([]);
});

test.afterAll(async () => {
	await Promise.all(actors.map((a) => a.context.close()));
});

test('the first administrator creates a study from the Focus room template', async () => {
	await page.goto('/');
	await expect(page).toHaveURL(/\/setup$/);
	await page.getByLabel('Name', { exact: true }).fill(admin.name);
	await page.getByLabel('Email', { exact: true }).fill(admin.email);
	await page.getByLabel('Password', { exact: true }).fill(admin.password);
	await page.getByLabel('Repeat password', { exact: true }).fill(admin.password);
	await page.getByRole('button', { name: 'Create administrator account' }).click();
	await expect(page).toHaveURL(/\/studies$/);

	// With nothing to list yet, the choice of how to start is already open.
	await expect(page.getByRole('button', { name: 'New study' })).toHaveAttribute(
		'aria-expanded',
		'true'
	);
	await page.getByRole('radio', { name: 'Focus room' }).check();
	await page.getByRole('button', { name: 'Create study' }).click();

	await expect(page).toHaveURL(/\/studies\/[^/]+$/);
	studyPath = new URL(page.url()).pathname;
	await expect(page.getByRole('heading', { name: 'Focus room', level: 1 })).toBeVisible();
	await expect(page.getByTestId('study-status')).toHaveText('draft');
	await expect(stageTitles(page)).toHaveText(['Welcome', 'Focus session', 'Wrap-up', 'Done']);
	await expectSaved(page);
});

test("editing a stage's title is saved automatically and survives a reload", async () => {
	await outline(page).getByRole('button', { name: 'Wrap-up', exact: true }).click();
	await page.getByLabel('Title', { exact: true }).fill('Reflection chat');
	await expect(saveState(page)).toHaveText(/Unsaved changes|Saving…/);
	await expectSaved(page);
	await expect(stageTitles(page)).toHaveText([
		'Welcome',
		'Focus session',
		'Reflection chat',
		'Done'
	]);

	await page.reload();
	await expect(stageTitles(page)).toHaveText([
		'Welcome',
		'Focus session',
		'Reflection chat',
		'Done'
	]);
});

test('stages are reordered by keyboard and by the Move buttons, and the order is saved', async () => {
	const handle = outline(page).getByRole('button', { name: 'Reorder Reflection chat' });
	await handle.focus();
	await page.keyboard.press('Alt+ArrowUp');
	await expect(stageTitles(page)).toHaveText([
		'Welcome',
		'Reflection chat',
		'Focus session',
		'Done'
	]);
	// The handle keeps the focus as its row moves, so the next press moves it again.
	await expect(
		outline(page).getByRole('button', { name: 'Reorder Reflection chat' })
	).toBeFocused();
	await page.keyboard.press('Alt+ArrowUp');
	await expect(stageTitles(page)).toHaveText([
		'Reflection chat',
		'Welcome',
		'Focus session',
		'Done'
	]);

	await outline(page).getByRole('button', { name: 'Actions for Reflection chat' }).click();
	await outline(page).getByRole('button', { name: 'Move down' }).click();
	await expect(stageTitles(page)).toHaveText([
		'Welcome',
		'Reflection chat',
		'Focus session',
		'Done'
	]);
	await outline(page).getByRole('button', { name: 'Actions for Focus session' }).click();
	await outline(page).getByRole('button', { name: 'Move up' }).click();
	await expect(stageTitles(page)).toHaveText([
		'Welcome',
		'Focus session',
		'Reflection chat',
		'Done'
	]);
	await outline(page).getByRole('button', { name: 'Actions for Welcome' }).click();
	await outline(page).getByRole('button', { name: 'Move down' }).click();
	const order = ['Focus session', 'Welcome', 'Reflection chat', 'Done'];
	await expect(stageTitles(page)).toHaveText(order);
	await expectSaved(page);

	await page.reload();
	await expect(stageTitles(page)).toHaveText(order);
});

test('a broken setting is shown at its field and blocks publishing until fixed', async () => {
	await outline(page).getByRole('button', { name: 'Study settings' }).click();
	const title = page.getByLabel('Study title');
	await title.fill('');
	await expect(title).toHaveAttribute('aria-invalid', 'true');
	await expect(page.getByText('A title is required.')).toBeVisible();
	await expect(page.getByRole('button', { name: 'Publish', exact: true })).toBeDisabled();

	// The summary lists the problem and jumps to its field.
	await page.getByRole('button', { name: '1 problem to fix before publishing' }).click();
	await outline(page).getByRole('button', { name: 'Welcome', exact: true }).click();
	await page.getByRole('button', { name: 'Settings', exact: true }).click();
	await expect(title).toBeFocused();

	await title.fill(STUDY_TITLE);
	await expect(title).not.toHaveAttribute('aria-invalid', 'true');
	await expect(page.getByText('to fix before publishing')).toHaveCount(0);
	await expectSaved(page);
	await expect(page.getByRole('button', { name: 'Publish', exact: true })).toBeEnabled();
});

test('Undo reverts the last change, and the reverted state is saved', async () => {
	const name = page.getByLabel('Name shown to participants');
	await expect(name).toHaveValue('Focus room');
	await name.fill('Deep work room');
	await expectSaved(page);

	await page.getByRole('button', { name: 'Undo', exact: true }).click();
	await expect(name).toHaveValue('Focus room');
	await expect(page.getByLabel('Study title')).toHaveValue(STUDY_TITLE);
	await expectSaved(page);

	await page.reload();
	await outline(page).getByRole('button', { name: 'Study settings' }).click();
	await expect(page.getByLabel('Name shown to participants')).toHaveValue('Focus room');
	await expect(page.getByLabel('Study title')).toHaveValue(STUDY_TITLE);
	// Structural changes are one step each, and Ctrl+Z outside a text field undoes them.
	await outline(page).getByRole('button', { name: '+ Add stage' }).click();
	await outline(page).getByRole('button', { name: 'Wait for everyone' }).click();
	const withWait = ['Focus session', 'Welcome', 'Reflection chat', 'Wait for everyone', 'Done'];
	await expect(stageTitles(page)).toHaveText(withWait);
	await page.getByRole('heading', { level: 1 }).click();
	await page.keyboard.press('Control+z');
	await expect(stageTitles(page)).toHaveText([
		'Focus session',
		'Welcome',
		'Reflection chat',
		'Done'
	]);
	await expectSaved(page);
});

test('publishing shows the link, its QR code, and Copy puts the link on the clipboard', async () => {
	await expectSaved(page);
	await page.getByRole('button', { name: 'Publish', exact: true }).click();

	const link = page.getByLabel('Participant link');
	await expect(link).toHaveValue(/^http:\/\/127\.0\.0\.1:\d+\/s\/[^/]+$/);
	await expect(page.getByRole('img', { name: 'QR code of the participant link' })).toBeVisible();
	await expect(page.getByTestId('study-status')).toHaveText('live');
	await expect(page.getByTestId('version-label')).toHaveText('v1 live');

	await page.getByRole('button', { name: 'Copy', exact: true }).click();
	await expect(page.getByRole('button', { name: 'Copied', exact: true })).toBeVisible();
	const clipboard = await page.evaluate(() => navigator.clipboard.readText());
	expect(clipboard).toBe(await link.inputValue());
});

test('a live study is paused and resumed', async () => {
	await page.getByRole('button', { name: 'Pause', exact: true }).click();
	await expect(page.getByTestId('study-status')).toHaveText('paused');
	await page.getByRole('button', { name: 'Resume', exact: true }).click();
	await expect(page.getByTestId('study-status')).toHaveText('live');
	await expect(page.getByRole('button', { name: 'Pause', exact: true })).toBeVisible();
});

test('the study is exported as JSON and imported again as a second study', async () => {
	const downloading = page.waitForEvent('download');
	await page.getByRole('link', { name: 'Export' }).click();
	const download = await downloading;
	const file = await download.path();
	exported = JSON.parse(await readFile(file, 'utf8'));
	expect(exported.definition.settings.title).toBe(STUDY_TITLE);
	const titles = exported.definition.stages.map((stage) => stage.title);
	expect(titles).toEqual(['Focus session', 'Welcome', 'Reflection chat', 'Done']);

	await page.goto('/studies');
	await expect(page.getByTestId('study-row')).toHaveCount(1);
	await page.getByRole('button', { name: 'New study' }).click();

	// A file that is not a study is refused with its problems listed.
	await page.getByLabel('Import from file').setInputFiles({
		name: 'broken.json',
		mimeType: 'application/json',
		buffer: Buffer.from(JSON.stringify({ schemaVersion: 1, settings: {}, stages: [] }))
	});
	await page.getByRole('button', { name: 'Import', exact: true }).click();
	await expect(page.getByText('broken.json is not a valid study:')).toBeVisible();
	await expect(page.getByTestId('import-issues').getByRole('listitem').first()).toBeVisible();

	await page.getByLabel('Import from file').setInputFiles(file);
	await page.getByRole('button', { name: 'Import', exact: true }).click();
	await expect(page).toHaveURL(/\/studies\/[^/]+$/);
	expect(new URL(page.url()).pathname).not.toBe(studyPath);
	await expect(page.getByRole('heading', { name: STUDY_TITLE, level: 1 })).toBeVisible();
	await expect(page.getByTestId('study-status')).toHaveText('draft');
	await expect(stageTitles(page)).toHaveText(titles);

	await page.goto('/studies');
	await expect(page.getByTestId('study-row')).toHaveCount(2);
});

test('a colleague the study is shared with for viewing sees it read-only', async ({
	browser
}, testInfo) => {
	await page.getByRole('link', { name: 'Users' }).click();
	await page.getByRole('button', { name: 'Create invite link' }).click();
	const invite = await page.getByTestId('invite-url').inputValue();

	colleague = await openActor(browser, testInfo.project.use.baseURL!, actors);
	const other = colleague.page;
	await other.goto(invite);
	await other.getByLabel('Name', { exact: true }).fill(reviewer.name);
	if (await other.getByLabel('Email', { exact: true }).isEditable()) {
		await other.getByLabel('Email', { exact: true }).fill(reviewer.email);
	}
	await other.getByLabel('Password', { exact: true }).fill(reviewer.password);
	await other.getByLabel('Repeat password', { exact: true }).fill(reviewer.password);
	await other.getByRole('button', { name: /create/i }).click();
	await expect(other).toHaveURL(/\/studies$/);

	await page.goto(studyPath);
	await page.getByRole('button', { name: 'Sharing' }).click();
	await page.getByLabel("Colleague's email").fill(reviewer.email);
	await page.getByLabel('Permission', { exact: true }).selectOption('view');
	await page.getByRole('button', { name: 'Share', exact: true }).click();
	await expect(page.getByTestId('member')).toContainText([`${reviewer.name}`]);
	await expect(page.getByTestId('member')).toContainText(['can view']);

	await other.goto(studyPath);
	await expect(other.getByText('View only')).toBeVisible();
	await expect(other.getByTestId('save-state')).toHaveCount(0);
	await expect(other.getByRole('button', { name: 'Publish', exact: true })).toHaveCount(0);
	await expect(other.getByRole('button', { name: /^Reorder / })).toHaveCount(0);
	await outline(other).getByRole('button', { name: 'Study settings' }).click();
	await expect(other.getByLabel('Study title')).toBeDisabled();
	await expect(other.getByLabel('Study title')).toHaveValue(STUDY_TITLE);
});

test('when two people edit at once, the later save stops and offers the latest version', async () => {
	await page.getByLabel('Permission', { exact: true }).selectOption('edit');
	await page.getByLabel("Colleague's email").fill(reviewer.email);
	await page.getByRole('button', { name: 'Share', exact: true }).click();
	await expect(page.getByTestId('member')).toContainText(['can edit']);

	// Both have the same revision open; the colleague saves first.
	const other = colleague.page;
	await other.reload();
	await expect(other.getByText('View only')).toHaveCount(0);
	await outline(other).getByRole('button', { name: 'Welcome', exact: true }).click();
	await other.getByLabel('Title', { exact: true }).fill('Welcome, colleague');
	await expectSaved(other);

	await outline(page).getByRole('button', { name: 'Done', exact: true }).click();
	await page.getByLabel('Title', { exact: true }).fill('Finished');
	await expect(saveState(page)).toHaveText('Someone else changed this study');
	await page.getByRole('button', { name: 'Reload the latest version' }).click();
	await expectSaved(page);
	await expect(stageTitles(page)).toHaveText([
		'Focus session',
		'Welcome, colleague',
		'Reflection chat',
		'Done'
	]);
});
