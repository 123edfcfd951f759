import { expect, test } from '@playwright/test';
import { signInResearcher } from './support/researcher';

// The study setting that decides which study-link parameters are safe to show without the data
// permission: edited in the designer's settings, checked as it is typed, saved with the draft.
// A screenshot of the field with its error lands in the test output (safe-link-parameters.png).

test('safe link parameters are set in the study settings and saved with the draft', async ({
	browser
}, testInfo) => {
	const baseURL = testInfo.project.use.baseURL!;
	const researcher = await signInResearcher(browser, baseURL);
	const created = await researcher.request.post('/api/studies', {
		headers: { origin: baseURL },
		data: { title: 'Link parameters e2e' }
	});
	expect(created.ok(), await created.text()).toBe(true);
	const { id } = (await created.json()) as { id: string };

	const page = await researcher.newPage();
	await page.goto(`/studies/${id}`);
	await page
		.getByRole('navigation', { name: 'Study outline' })
		.getByRole('button', { name: 'Study settings' })
		.click();
	const field = page.getByLabel('Link parameters safe to share');
	await expect(field).toHaveValue('');

	await field.fill('src, cohort  src');
	await field.blur();
	await expect(field).toHaveValue('src, cohort');
	await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
	const draft = async () =>
		(
			(await (await researcher.request.get(`/api/studies/${id}`)).json()) as {
				draft: { settings: { safeLinkParameters?: string[] } };
			}
		).draft.settings.safeLinkParameters;
	expect(await draft()).toEqual(['src', 'cohort']);

	// A name no link can carry is refused where it is typed; the saved list stays as it was.
	await field.fill('src, e\u0301mail');
	await field.blur();
	await expect(field).toHaveAttribute('aria-invalid', 'true');
	await expect(page.getByText('is not a link parameter name')).toBeVisible();
	await field.evaluate((element) => element.scrollIntoView({ block: 'center' }));
	await page.screenshot({ path: testInfo.outputPath('safe-link-parameters.png') });
	expect(await draft()).toEqual(['src', 'cohort']);

	// Emptied: the setting is gone again (none is safe).
	await field.fill('');
	await field.blur();
	await expect(field).not.toHaveAttribute('aria-invalid', 'true');
	await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
	expect(await draft()).toBeUndefined();
	await researcher.close();
});
