/**
 * What `bun run bench:sync` installs in every page before the page's own scripts
 * (`context.addInitScript`): a recorder of every frame each `<video>` displays, and samples of
 * the page clock against the wall clock. Both run inside the browser; the bench reads them
 * back with `readProbes`.
 */
import type { BrowserContext, Page } from '@playwright/test';

/** One displayed frame: page clock at display (`timeOrigin + expectedDisplayTime`), media s. */
export type FrameRecord = [displayedAtMs: number, mediaTime: number];

/** Wall clock (`Date.now()`) minus page clock (`timeOrigin + now()`), at a page time. */
export type ClockSample = [pageMs: number, wallMinusPageMs: number];

export type ProbeData = { frames: FrameRecord[]; clock: ClockSample[] };

/** How often the page clock is compared with the wall clock. */
const CLOCK_SAMPLE_INTERVAL_MS = 200;

/**
 * Runs in the page (stringified by Playwright: no imports, no closures). The wall-clock
 * comparison waits for `Date.now()` to tick and reads the page clock at that instant, so the
 * sample is exact to the page clock's resolution (Chromium: 0.1 ms), not to Date.now's 1 ms
 * (a plain difference would also be biased by half a millisecond: Date.now truncates).
 */
function installProbes(sampleIntervalMs: number): void {
	type FrameVideo = HTMLVideoElement & {
		requestVideoFrameCallback(
			callback: (now: number, metadata: { mediaTime: number; expectedDisplayTime: number }) => void
		): number;
	};
	const data: { frames: [number, number][]; clock: [number, number][] } = {
		frames: [],
		clock: []
	};
	(window as unknown as { __benchProbes: typeof data }).__benchProbes = data;

	const sampleClock = () => {
		const start = Date.now();
		// At most ~1.5 ms of spinning per sample: the page's own work barely notices.
		const giveUpAt = performance.now() + 1.5;
		let pageMs = 0;
		let wall = start;
		while (wall === start && performance.now() < giveUpAt) {
			pageMs = performance.timeOrigin + performance.now();
			wall = Date.now();
		}
		if (wall !== start) data.clock.push([pageMs, wall - pageMs]);
	};
	setInterval(sampleClock, sampleIntervalMs);

	const watched = new WeakSet<HTMLVideoElement>();
	const watch = (video: FrameVideo) => {
		watched.add(video);
		const onFrame = (
			_now: number,
			metadata: { mediaTime: number; expectedDisplayTime: number }
		): void => {
			data.frames.push([performance.timeOrigin + metadata.expectedDisplayTime, metadata.mediaTime]);
			video.requestVideoFrameCallback(onFrame);
		};
		video.requestVideoFrameCallback(onFrame);
	};
	// The room renders its <video> long after the document starts: watch for it.
	new MutationObserver(() => {
		for (const video of document.querySelectorAll('video')) {
			if (!watched.has(video)) watch(video as FrameVideo);
		}
	}).observe(document, { childList: true, subtree: true });
}

/** Installs the probes in every page of a context, before the pages' own scripts. */
export async function addProbes(context: BrowserContext): Promise<void> {
	await context.addInitScript(installProbes, CLOCK_SAMPLE_INTERVAL_MS);
}

/** Reads what the probes recorded so far. */
export async function readProbes(page: Page): Promise<ProbeData> {
	return page.evaluate(() => {
		const data = (window as unknown as { __benchProbes?: ProbeData }).__benchProbes;
		return data ?? { frames: [], clock: [] };
	});
}
