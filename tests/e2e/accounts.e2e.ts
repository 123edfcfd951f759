import { expect, test, type Page } from '@playwright/test';
import { openActor, type Actor } from './support/actors';

/**
 * Experimenter accounts, told as one story against a fresh server: first-run setup, signing
 * in and out, inviting a colleague, managing sessions, disabling an account. Each actor has
 * their own browser context (their own cookies), as two people on two machines would.
 */
test.describe.configure({ mode: 'serial' });

const admin = { name: 'Ada Admin', email: 'admin@e2e.test', password: 'e2e admin passphrase 1' };
const colleague = {
	name: 'Colin Colleague',
	email: 'colleague@e2e.test',
	password: 'e2e colleague passphrase 2'
};
/** On the shipped common-password list (src/lib/server/auth/common-passwords.ts). */
const COMMON_PASSWORD = 'password123';

const actors: Actor[] = [];

async function fillNewAccount(
	page: Page,
	account: { name: string; email: string },
	password: string
): Promise<void> {
	await page.getByLabel('Name', { exact: true }).fill(account.name);
	await page.getByLabel('Email', { exact: true }).fill(account.email);
	await page.getByLabel('Password', { exact: true }).fill(password);
	await page.getByLabel('Repeat password', { exact: true }).fill(password);
}

/** Signs in from a freshly loaded form, so an error on screen belongs to this attempt. */
async function signIn(page: Page, email: string, password: string): Promise<void> {
	await page.goto('/login');
	await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
	await expect(page.getByRole('alert')).toHaveCount(0);
	await page.getByLabel('Email', { exact: true }).fill(email);
	await page.getByLabel('Password', { exact: true }).fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
}

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

let baseURL: string;
let adminActor: Actor;
let colleagueActor: Actor;
let inviteLink: string;

test.beforeAll(async ({ browser }, testInfo) => {
	baseURL = testInfo.project.use.baseURL!;
	adminActor = await openActor(browser, baseURL, actors);
	colleagueActor = await openActor(browser, baseURL, actors);
});

test.afterEach(() => {
	expect(actors.flatMap((actor) => actor.cspErrors)).toEqual([]);
});

test.afterAll(async () => {
	await Promise.all(actors.map((actor) => actor.context.close()));
});

test('a fresh server sends the first visitor to setup', async () => {
	const { page } = adminActor;
	await page.goto('/');
	await expect(page).toHaveURL(/\/setup$/);
	await expect(page.getByRole('heading', { name: 'Welcome to Ensemble' })).toBeVisible();
});

test('setup refuses a common password', async () => {
	const { page } = adminActor;
	await fillNewAccount(page, admin, COMMON_PASSWORD);
	await page.getByRole('button', { name: 'Create administrator account' }).click();
	await expect(page.getByRole('alert')).toHaveText(
		'This password is on a list of commonly used passwords. Choose another.'
	);
	await expect(page).toHaveURL(/\/setup$/);
});

test('setup creates the administrator and opens an empty studies page', async () => {
	const { page } = adminActor;
	await fillNewAccount(page, admin, admin.password);
	await page.getByRole('button', { name: 'Create administrator account' }).click();

	await expect(page).toHaveURL(/\/studies$/);
	await expect(page.getByRole('heading', { name: 'Studies', level: 1 })).toBeVisible();
	await expect(page.getByRole('heading', { name: 'No studies yet' })).toBeVisible();
	for (const link of ['Studies', 'Users', 'Account']) {
		await expect(nav(page).getByRole('link', { name: link })).toBeVisible();
	}
	await expect(nav(page).getByText(admin.name)).toBeVisible();
});

test('signing out ends the session and setup stays closed', async () => {
	const { page } = adminActor;
	await nav(page).getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL(/\/login\?signed-out=1$/);
	await expect(page.getByText('You have been signed out.')).toBeVisible();

	await page.goto('/studies');
	await expect(page).toHaveURL(/\/login\?/);
	await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

	await page.goto('/setup');
	await expect(page).toHaveURL(/\/login$/);
	await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
});

test('sign-in answers a wrong password and an unknown email alike', async () => {
	const { page } = adminActor;
	await signIn(page, admin.email, 'not the admin passphrase');
	await expect(page.getByRole('alert')).toHaveText('Incorrect email or password.');

	await signIn(page, 'nobody@e2e.test', admin.password);
	await expect(page.getByRole('alert')).toHaveText('Incorrect email or password.');

	await signIn(page, admin.email, admin.password);
	await expect(page).toHaveURL(/\/studies$/);
	await expect(page.getByRole('heading', { name: 'Studies', level: 1 })).toBeVisible();
});

test('an invite link creates a researcher account, once', async ({ browser }) => {
	const { page } = adminActor;
	await nav(page).getByRole('link', { name: 'Users' }).click();
	await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
	await expect(page.getByLabel('Role', { exact: true })).toHaveValue('researcher');
	await page.getByRole('button', { name: 'Create invite link' }).click();
	const inviteUrl = page.getByTestId('invite-url');
	await expect(inviteUrl).toBeVisible();
	inviteLink = await inviteUrl.inputValue();
	expect(inviteLink.startsWith(`${baseURL}/invite/`)).toBe(true);

	const invitee = colleagueActor.page;
	await invitee.goto(inviteLink);
	await expect(invitee.getByText('You have been invited as researcher')).toBeVisible();
	await fillNewAccount(invitee, colleague, colleague.password);
	await invitee.getByRole('button', { name: 'Create account' }).click();
	await expect(invitee).toHaveURL(/\/studies$/);
	await expect(nav(invitee).getByText(colleague.name)).toBeVisible();
	await expect(nav(invitee).getByRole('link', { name: 'Studies' })).toBeVisible();
	await expect(nav(invitee).getByRole('link', { name: 'Users' })).toHaveCount(0);

	await page.reload();
	await expect(page.getByTestId('user-row').filter({ hasText: colleague.email })).toBeVisible();

	const latecomer = await openActor(browser, baseURL, actors);
	await latecomer.page.goto(inviteLink);
	await expect(latecomer.page.getByText('This invite link has already been used')).toBeVisible();
});

test('the account page lists sessions and signs out everywhere', async ({ browser }) => {
	// The administrator also signed in on a second machine.
	const elsewhere = await openActor(browser, baseURL, actors);
	await signIn(elsewhere.page, admin.email, admin.password);
	await expect(elsewhere.page).toHaveURL(/\/studies$/);

	const { page } = adminActor;
	await nav(page).getByRole('link', { name: 'Account' }).click();
	await expect(page.getByRole('heading', { name: 'Account', level: 1 })).toBeVisible();
	const sessions = page.getByTestId('session-row');
	await expect(sessions).toHaveCount(2);
	await expect(sessions.filter({ hasText: 'This device' })).toHaveCount(1);

	await page.getByRole('button', { name: 'Sign out everywhere' }).click();
	await expect(page).toHaveURL(/\/login\?signed-out=1$/);
	await expect(page.getByText('You have been signed out.')).toBeVisible();

	await elsewhere.page.goto('/studies');
	await expect(elsewhere.page).toHaveURL(/\/login\?/);
});

test('a disabled colleague is signed out at their next navigation', async () => {
	const { page } = adminActor;
	await signIn(page, admin.email, admin.password);
	await expect(page).toHaveURL(/\/studies$/);
	await nav(page).getByRole('link', { name: 'Users' }).click();
	const row = page.getByTestId('user-row').filter({ hasText: colleague.email });
	await row.getByRole('button', { name: 'Disable' }).click();
	await expect(row.getByText('disabled', { exact: true })).toBeVisible();
	await expect(row.getByRole('button', { name: 'Enable' })).toBeVisible();

	const invitee = colleagueActor.page;
	await nav(invitee).getByRole('link', { name: 'Account' }).click();
	await expect(invitee).toHaveURL(/\/login\?/);
	await expect(invitee.getByRole('heading', { name: 'Sign in' })).toBeVisible();

	await signIn(invitee, colleague.email, colleague.password);
	await expect(invitee.getByRole('alert')).toHaveText(
		'This account has been disabled. Contact your Ensemble administrator.'
	);
});
