import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { openActor, type Actor } from './support/actors';

/**
 * The media library in a browser: a researcher uploads a real clip over a slowed-down link and
 * watches the progress bar move, sees the item with its probed duration, plays it from the
 * server with Range requests, is refused a fake video, and deletes the clip.
 */
test.describe.configure({ mode: 'serial' });

const admin = { name: 'Mia Media', email: 'mia@media.test', password: 'media e2e phrase 1' };

const actors: Actor[] = [];
let page: Page;
let folder: string;
let clipPath: string;
let fakePath: string;

/** A 4-second VP8/WebM clip of about 1 MB, so a throttled upload takes a few seconds. */
function makeClip(path: string): void {
	// Playwright runs specs under Node, so node:child_process rather than Bun.spawn.
	const ffmpeg = spawnSync(
		'ffmpeg',
		[
			'-hide_banner',
			'-loglevel',
			'error',
			'-f',
			'lavfi',
			'-i',
			'testsrc=size=320x240:rate=25',
			'-t',
			'4',
			// Noise keeps the encoder from compressing the pattern away: ~1 MB at 2 Mbit/s.
			'-vf',
			'noise=alls=60:allf=t',
			'-c:v',
			'libvpx',
			'-deadline',
			'realtime',
			'-b:v',
			'2M',
			path
		],
		{ encoding: 'utf8' }
	);
	if (ffmpeg.status !== 0) throw new Error(`ffmpeg failed: ${ffmpeg.stderr.toString()}`);
}

test.beforeAll(async ({ browser }, testInfo) => {
	folder = mkdtempSync(join(tmpdir(), 'ensemble-media-e2e-'));
	clipPath = join(folder, 'lab-clip.webm');
	fakePath = join(folder, 'not-a-video.mp4');
	makeClip(clipPath);
	writeFileSync(fakePath, 'this is text pretending to be a video\n'.repeat(50));
	page = (await openActor(browser, testInfo.project.use.baseURL!, actors)).page;
});

test.afterEach(() => {
	expect(actors.flatMap((a) => a.cspErrors)).toEqual([]);
});

test.afterAll(async () => {
	await Promise.all(actors.map((a) => a.context.close()));
	rmSync(folder, { recursive: true, force: true });
});

test('the first administrator opens the media library', async () => {
	await page.goto('/setup');
	await page.getByLabel('Name', { exact: true }).fill(admin.name);
	await page.getByLabel('Email', { exact: true }).fill(admin.email);
	await page.getByLabel('Password', { exact: true }).fill(admin.password);
	await page.getByLabel('Repeat password', { exact: true }).fill(admin.password);
	await page.getByRole('button', { name: 'Create administrator account' }).click();
	await expect(page).toHaveURL(/\/studies$/);
	await page.getByRole('link', { name: 'Media', exact: true }).click();
	await expect(page).toHaveURL(/\/media$/);
});

test('an upload shows a moving progress bar, then the clip with its duration', async () => {
	// Chromium's network emulation slows the upload to ~256 KiB/s, so progress is observable.
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions', {
		offline: false,
		latency: 0,
		downloadThroughput: -1,
		uploadThroughput: 256 * 1024
	});

	await page.getByLabel('Upload media').setInputFiles(clipPath);
	const progress = page.getByRole('progressbar', { name: 'Upload progress' });
	await expect
		.poll(async () => Number(await progress.getAttribute('value')), { timeout: 20_000 })
		.toBeGreaterThan(0);
	const midway = Number(await progress.getAttribute('value'));
	expect(midway).toBeLessThan(100);

	const row = page.getByTestId('media-row').filter({ hasText: 'lab-clip.webm' });
	await expect(row).toBeVisible({ timeout: 30_000 });
	await expect(page.getByText('Uploaded “lab-clip.webm”.')).toBeVisible();
	await expect(progress).toHaveAttribute('value', '100');
	await cdp.send('Network.emulateNetworkConditions', {
		offline: false,
		latency: 0,
		downloadThroughput: -1,
		uploadThroughput: -1
	});
	// ffprobe measured it: 4 seconds, 320 × 240.
	await expect(row).toContainText('0:04');
	await expect(row).toContainText('320 × 240');
});

test('the clip plays from the server, which answers Range requests with the right bytes', async () => {
	const preview = page.getByLabel('Preview of lab-clip.webm');
	const source = await preview.getAttribute('src');
	expect(source).toMatch(/^\/api\/media\/[^/]+\/file$/);
	await expect
		.poll(() => preview.evaluate((video: HTMLVideoElement) => video.readyState), {
			timeout: 15_000
		})
		.toBeGreaterThanOrEqual(1);
	expect(await preview.evaluate((video: HTMLVideoElement) => video.duration)).toBeCloseTo(4, 0);

	const original = readFileSync(clipPath);
	const ranged = await page.request.get(source!, { headers: { range: 'bytes=100-1123' } });
	expect(ranged.status()).toBe(206);
	expect(ranged.headers()['content-range']).toBe(`bytes 100-1123/${original.length}`);
	expect(Buffer.from(await ranged.body()).equals(original.subarray(100, 1124))).toBe(true);
});

test('a text file named .mp4 is refused with a clear message and nothing is added', async () => {
	await page.getByLabel('Upload media').setInputFiles(fakePath);
	await expect(page.getByRole('alert')).toContainText('not-a-video.mp4');
	await expect(page.getByTestId('media-row')).toHaveCount(1);
	const listed = await page.request.get('/api/media');
	const { media } = (await listed.json()) as { media: { filename: string }[] };
	expect(media.map((item) => item.filename)).toEqual(['lab-clip.webm']);
});

test('deleting the clip asks once more, then removes it', async () => {
	const row = page.getByTestId('media-row').filter({ hasText: 'lab-clip.webm' });
	await row.getByRole('button', { name: 'Delete', exact: true }).click();
	await row.getByRole('button', { name: 'Yes, delete' }).click();
	await expect(page.getByTestId('media-row')).toHaveCount(0);
	const listed = await page.request.get('/api/media');
	expect(((await listed.json()) as { media: unknown[] }).media).toEqual([]);
});
