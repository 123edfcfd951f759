/**
 * The host-led baseline's run of `bun run bench:sync`: page 1 hosts, the others chase it
 * (`host-led.ts`), through the same latency proxies and measured the same way.
 */
import { HOST_LED_DEFAULTS, runHostLedPage, type HostLedState } from './host-led';
import type { LatencyCondition } from './latency-proxy';
import { benchNow, measureBenchMinusWall, sleepUntil } from './machine';
import { addProbes, readProbes } from './page-probes';
import { createDisplayLookup, summarize, type Frame } from './sync-analysis';
import {
	alignPages,
	CLOCK_SETTLE_MS,
	launch,
	measureApplied,
	measurePlayback,
	meterMachine,
	PLAY_AFTER_SEEK_MS,
	SEEK_AFTER_MS,
	SEEK_TO_S,
	setCondition,
	type RunResult,
	type RunSetup
} from './sync-run';

/** The baseline: page 1 hosts and plays freely, pages 2–4 chase its reports. */
export async function runHostLed(
	setup: RunSetup,
	condition: LatencyCondition,
	seed: number
): Promise<RunResult> {
	setCondition(setup.relayProxies, condition, seed);
	setup.relay.reset();
	const stopMeter = await meterMachine();
	const browser = await launch();
	try {
		const pages = await Promise.all(
			setup.relayProxies.map(async (proxy, i) => {
				const context = await browser.newContext({ baseURL: proxy.origin });
				await addProbes(context);
				const page = await context.newPage();
				await page.goto('/watch');
				// A click, as a participant would give: the page may then play with sound.
				await page.getByRole('button', { name: 'Start' }).click();
				const role: 'host' | 'viewer' = i === 0 ? 'host' : 'viewer';
				await page.evaluate(runHostLedPage, { ...HOST_LED_DEFAULTS, role });
				return page;
			})
		);
		const readyBy = benchNow() + 30_000;
		while (setup.relay.ready < pages.length) {
			if (benchNow() > readyBy) throw new Error('the baseline pages did not buffer the clip');
			await Bun.sleep(100);
		}
		// Let the pages' clock burst (8 pings, 75 ms apart) finish before the host starts.
		await Bun.sleep(1_500);
		const startAt = benchNow();
		for (const proxy of setup.relayProxies) proxy.clearApplied();
		setup.relay.commandHost({ action: 'play' });
		await sleepUntil(benchNow, startAt + SEEK_AFTER_MS);
		const seekAt = benchNow();
		setup.relay.commandHost({ action: 'seek', mediaTime: SEEK_TO_S });
		await sleepUntil(benchNow, seekAt + PLAY_AFTER_SEEK_MS);
		const end = benchNow();

		const probes = await Promise.all(pages.map(readProbes));
		const states = await Promise.all(
			pages.map((page) =>
				page.evaluate(() => (window as unknown as { __hostLed: HostLedState }).__hostLed)
			)
		);
		// The relay's clock is this process's clock: the reference here.
		const benchMinusWall = await measureBenchMinusWall();
		const { offsets, frames, drift } = alignPages(probes, benchMinusWall);
		const host = createDisplayLookup(frames[0] as Frame[]);
		// A viewer's error: how much later than the host it showed the same frame (ms).
		const errorOf = (frame: Frame) => {
			const hostAt = host(frame.media, frame.at);
			return hostAt === undefined ? undefined : hostAt - frame.at;
		};
		const clockErrors: number[] = [];
		states.forEach((state, i) => {
			const truth = offsets[i] as number;
			const firstAt = (state.offsets[0]?.[0] ?? 0) + truth;
			for (const [at, offset] of state.offsets) {
				if (at + truth >= firstAt + CLOCK_SETTLE_MS) clockErrors.push(offset - truth);
			}
		});
		return {
			variant: 'host-led',
			condition: condition.name,
			label: condition.label,
			clockErrorMs: summarize(clockErrors.map(Math.abs)),
			clockBiasMs: summarize(clockErrors).mean,
			...measurePlayback(frames, frames.slice(1), errorOf, {
				startAt,
				seekFrom: seekAt,
				seekAt,
				end
			}),
			seeksPerPage: states.slice(1).map((state) => state.seeks),
			lockedShare: null,
			playLatencyMs: [],
			...measureApplied(setup.relayProxies),
			machine: stopMeter(),
			pageClockDriftMs: drift,
			notes: ['converge/start/seek errors: viewers against the host’s own display of each frame'],
			raw: { frames, startAt, seekFrom: seekAt, seekAt, end }
		};
	} finally {
		await browser.close();
	}
}
