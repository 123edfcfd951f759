import { expect, test, type Page } from '@playwright/test';

/**
 * Inactivity expiry, against the server started with SESSION_IDLE_TIMEOUT=3s
 * (playwright.config.ts). Its data directory is its own, so this story starts at setup too.
 */

const IDLE_TIMEOUT_MS = 3_000;
// Each poll reloads /studies, and a reload is activity: it moves the session's last-seen time
// (written back every idle/4 = 750 ms). Polling faster than the timeout would keep the
// session alive forever, so the polls sit one timeout plus a margin apart.
const POLL_INTERVAL_MS = IDLE_TIMEOUT_MS + 1_000;
const researcher = {
	name: 'Ida Idle',
	email: 'idle@e2e.test',
	password: 'e2e idle passphrase 3'
};

async function fillNewAccount(page: Page): Promise<void> {
	await page.getByLabel('Name', { exact: true }).fill(researcher.name);
	await page.getByLabel('Email', { exact: true }).fill(researcher.email);
	await page.getByLabel('Password', { exact: true }).fill(researcher.password);
	await page.getByLabel('Repeat password', { exact: true }).fill(researcher.password);
}

test('an idle session expires, says so, and signing in again works', async ({ page }) => {
	const cspErrors: string[] = [];
	page.on('console', (message) => {
		if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
			cspErrors.push(message.text());
		}
	});

	await page.goto('/');
	await expect(page.getByRole('heading', { name: 'Welcome to Ensemble' })).toBeVisible();
	await fillNewAccount(page);
	await page.getByRole('button', { name: 'Create administrator account' }).click();
	await expect(page).toHaveURL(/\/studies$/);
	await expect(page.getByRole('heading', { name: 'Studies', level: 1 })).toBeVisible();

	await expect
		.poll(
			async () => {
				await page.goto('/studies');
				return new URL(page.url()).pathname;
			},
			{ intervals: [POLL_INTERVAL_MS], timeout: 15_000 }
		)
		.toBe('/login');
	await expect(
		page.getByText('Your session expired after a period of inactivity. Sign in again.')
	).toBeVisible();

	await page.getByLabel('Email', { exact: true }).fill(researcher.email);
	await page.getByLabel('Password', { exact: true }).fill(researcher.password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page).toHaveURL(/\/studies$/);
	await expect(page.getByRole('heading', { name: 'Studies', level: 1 })).toBeVisible();

	expect(cspErrors).toEqual([]);
});
