import { expect, type Browser, type Page } from '@playwright/test';
import { findStudyTemplate, type StudyDefinition } from '../../../src/lib/study';
import type { Actor } from './actors';
import { openActor } from './actors';
import { installFakeHeartSensor } from './heart-sensor';
import { countPerMember, publishStudy, readRoomLog, signInResearcher } from './researcher';

export const COHERENCE_CODE = 'HEART1';
/** The cohort starts this long after publishing: time for both to pass the ready check. */
const COHORT_LEAD_MS = 30_000;

/**
 * The group-coherence template as a researcher would pilot it: the same stages, rules and
 * scheduled mode, with minutes turned into seconds and the first cohort half a minute away.
 */
export function makeCoherencePilot(firstStartAt: Date): StudyDefinition {
	const study = findStudyTemplate('group-coherence')!.create({ demoMediaId: null });
	if (study.settings.session.mode !== 'scheduled') throw new Error('the template changed mode');
	study.settings.session = {
		...study.settings.session,
		intervalMinutes: 1,
		firstStartAt: firstStartAt.toISOString()
	};
	study.settings.outcomes.completed.completionCode = COHERENCE_CODE;
	// Preparation outlasts the waiting page's 5 s heartbeat and a page load, so both pages see
	// it wherever in that beat the cohort formed.
	const seconds: Record<string, number> = { preparation: 12, coherence: 25, integration: 3 };
	study.stages = study.stages.map((stage) =>
		stage.id in seconds ? { ...stage, durationSeconds: seconds[stage.id]! } : stage
	);
	return study;
}

/** From the link, the sensor connected at the ready check, into the waiting room. */
async function enterWithSensor(page: Page, link: string): Promise<void> {
	await page.goto(link);
	await expect(page.getByRole('heading', { name: 'Breathing together' })).toBeVisible();
	await page.getByRole('button', { name: 'Start' }).click();
	await expect(page.getByRole('heading', { name: 'Ready check' })).toBeVisible();
	await page.getByRole('button', { name: 'Connect heart-rate sensor' }).click();
	await expect(page.getByText(/Sensor connected: Strap/)).toBeVisible();
	await expect(page.getByText(/\d+ bpm/)).toBeVisible();
	const requests = await page.evaluate(
		() => (window as unknown as { __bluetoothRequests: unknown[] }).__bluetoothRequests
	);
	expect(requests).toEqual([{ filters: [{ services: ['heart_rate'] }] }]);
	await page.getByRole('button', { name: 'Turn on sound' }).click();
	await page.getByRole('button', { name: 'Continue to the waiting room' }).click();
	await expect(page.getByText(/starts/i).first()).toBeVisible();
}

/**
 * Two people with heart-rate straps run a group-coherence session from its study link: the
 * scheduled cohort starts them together, the room computes their coherence from the straps'
 * R-R intervals and shows the group's live value, and both end with the completion code.
 * The room's log holds exactly one outcome per member.
 */
export async function runCoherenceSession(browser: Browser, baseURL: string): Promise<void> {
	const researcher = await signInResearcher(browser, baseURL);
	const { link } = await publishStudy(
		researcher,
		baseURL,
		makeCoherencePilot(new Date(Date.now() + COHORT_LEAD_MS))
	);
	const actors: Actor[] = [];
	const [a, b] = [
		await openActor(browser, baseURL, actors),
		await openActor(browser, baseURL, actors)
	];
	await installFakeHeartSensor(a.context, { name: 'Strap A', speedup: 10, seed: 1 });
	await installFakeHeartSensor(b.context, { name: 'Strap B', speedup: 10, seed: 2 });
	// The page was opened before the script was installed: it applies from the next load on.
	for (const actor of [a, b]) await enterWithSensor(actor.page, link);

	for (const { page } of [a, b]) {
		// The cohort starts at its time; the waiting room's heartbeat brings the room in.
		await expect(page.getByRole('heading', { name: 'Preparation' })).toBeVisible({
			timeout: COHORT_LEAD_MS + 20_000
		});
		await expect(page.getByRole('status').getByText('Connected', { exact: true })).toBeVisible();
	}
	const roomA = await a.page.locator('[data-room-id]').getAttribute('data-room-id');
	expect(await b.page.locator('[data-room-id]').getAttribute('data-room-id')).toBe(roomA);

	for (const { page } of [a, b]) {
		await expect(page.getByRole('heading', { name: 'Breathing together' }).last()).toBeVisible({
			timeout: 15_000
		});
		// Sixty-four seconds of beats make the first score; both straps breathe at 0.1 Hz.
		const meter = page.getByRole('meter', { name: 'Group coherence' });
		await expect(page.getByText('2 people', { exact: false })).toBeVisible({ timeout: 20_000 });
		const value = Number(await meter.getAttribute('aria-valuenow'));
		expect(value).toBeGreaterThanOrEqual(60);
		await expect(page.locator('.band')).toHaveText('high');
	}

	for (const { page } of [a, b]) {
		await expect(page.getByText('Your completion code')).toBeVisible({ timeout: 45_000 });
		await expect(page.getByText(COHERENCE_CODE, { exact: true })).toBeVisible();
	}
	const log = await readRoomLog(researcher, roomA!);
	expect(Object.values(countPerMember(log, 'member.outcome'))).toEqual([1, 1]);
	for (const actor of actors) expect(actor.cspErrors).toEqual([]);
	await Promise.all([...actors.map((actor) => actor.context.close()), researcher.close()]);
}
