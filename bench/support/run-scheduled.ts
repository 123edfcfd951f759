/**
 * Ensemble's run of `bun run bench:sync`: four participants join a room through the latency
 * proxies, every page steers to the server's schedule, and the experimenter seeks everyone.
 */
import type { Page } from '@playwright/test';
import { targetMediaTime, type PlaybackSchedule } from '../../src/lib/sync/schedule';
import { ExperimenterSocket, type RoomEvent } from './experimenter';
import type { LatencyCondition } from './latency-proxy';
import { benchNow, measureBenchMinusWall, sleepUntil } from './machine';
import { addProbes, readProbes } from './page-probes';
import { summarize, type Frame } from './sync-analysis';
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
	STAGE_ID,
	STEADY_AFTER_SEEK_MS,
	STEADY_AFTER_START_MS,
	type RunResult,
	type RunSetup
} from './sync-run';

type SyncQuality = {
	offsetMs: number;
	seeks: number;
	stageId: string;
	phase: string;
	/** Newer clients: the play latency their starts learned. */
	playLatencyMs?: number;
};
type Capture = { reports: Map<string, { t: number; value: SyncQuality }>; socketOpenedAt?: number };

/** Listens to a page's room socket: the sync.quality telemetry it sends, and when it opened. */
function captureTelemetry(page: Page): Capture {
	const capture: Capture = { reports: new Map() };
	page.on('websocket', (socket) => {
		if (!socket.url().includes('/realtime/')) return;
		capture.socketOpenedAt ??= benchNow();
		socket.on('framesent', ({ payload }) => {
			if (typeof payload !== 'string' || !payload.includes('sync.quality')) return;
			const frame = JSON.parse(payload) as {
				samples?: { id: string; kind: string; t: number; value: SyncQuality }[];
			};
			for (const sample of frame.samples ?? []) {
				// Ids dedupe resent batches.
				if (sample.kind === 'sync.quality') capture.reports.set(sample.id, sample);
			}
		});
	});
	return capture;
}

/** A participant's way in: start, ready check (sound on), waiting room, the room. */
async function enterStudy(page: Page, link: string): Promise<void> {
	await page.goto(link);
	await page.getByRole('button', { name: 'Start' }).click();
	await page.getByRole('heading', { name: 'Ready check' }).waitFor();
	await page.getByRole('button', { name: 'Turn on sound' }).click();
	await page.getByRole('button', { name: 'Continue to the waiting room' }).click();
	await page.getByRole('heading', { name: 'The clip' }).waitFor({ timeout: 90_000 });
}

/** The schedule in force at a server time: the last one committed by then. */
function scheduleAt(events: RoomEvent[], at: number): PlaybackSchedule | undefined {
	let current: PlaybackSchedule | undefined;
	for (const event of events) {
		if (event.name === 'playback.scheduled' && event.at <= at) {
			current = event.payload.schedule as PlaybackSchedule;
		}
	}
	return current;
}

/** Ensemble: every page steers to the server's schedule; the experimenter seeks. */
export async function runScheduled(
	setup: RunSetup,
	condition: LatencyCondition,
	seed: number
): Promise<RunResult> {
	setCondition(setup.appProxies, condition, seed);
	const stopMeter = await meterMachine();
	const browser = await launch();
	let experimenter: ExperimenterSocket | undefined;
	try {
		const actors = await Promise.all(
			setup.appProxies.map(async (proxy) => {
				const context = await browser.newContext({ baseURL: proxy.origin });
				await addProbes(context);
				const page = await context.newPage();
				return { page, capture: captureTelemetry(page) };
			})
		);
		await Promise.all(actors.map(({ page }) => enterStudy(page, setup.link)));
		const first = actors[0]?.page as Page;
		const roomId = await first.locator('[data-room-id]').first().getAttribute('data-room-id');
		if (!roomId) throw new Error('no room id on the page');
		experimenter = await ExperimenterSocket.open(setup.server, setup.cookie, roomId);
		const { offsetMs: serverMinusBench } = await experimenter.measureServerOffset();
		const serverNow = () => benchNow() + serverMinusBench;

		const isStart = (event: RoomEvent) => event.name === 'playback.scheduled';
		const started = await experimenter.waitForEvent(isStart, 60_000);
		const startAt = (started.payload.schedule as PlaybackSchedule).anchorServerTime;
		for (const proxy of setup.appProxies) proxy.clearApplied();
		await sleepUntil(serverNow, startAt + SEEK_AFTER_MS);
		const seekFrom = serverNow();
		await experimenter.command('playback.control', {
			stageId: STAGE_ID,
			action: 'seek',
			mediaTime: SEEK_TO_S
		});
		const isSeek = (event: RoomEvent) =>
			event.name === 'playback.scheduled' && event.payload.cause === 'control';
		const seek = await experimenter.waitForEvent(isSeek, 10_000);
		const seekAt = (seek.payload.schedule as PlaybackSchedule).anchorServerTime;
		await sleepUntil(serverNow, seekAt + PLAY_AFTER_SEEK_MS);
		const end = serverNow();
		const timeline = { startAt, seekFrom, seekAt, end };

		const probes = await Promise.all(actors.map(({ page }) => readProbes(page)));
		// The reference is the server's clock: it pings and anchors schedules with it.
		const serverMinusWall = serverMinusBench + (await measureBenchMinusWall());
		const { offsets, frames, drift } = alignPages(probes, serverMinusWall);
		const events = [...experimenter.events];
		const errorOf = (frame: Frame) => {
			const schedule = scheduleAt(events, frame.at);
			return schedule && (frame.media - targetMediaTime(schedule, frame.at)) * 1000;
		};

		// The clock: each report's offset estimate against the page's true offset to the server.
		const clockErrors: number[] = [];
		const phases: string[] = [];
		const seeksPerPage: number[] = [];
		const playLatencyMs: (number | null)[] = [];
		actors.forEach(({ capture }, i) => {
			const truth = offsets[i] as number;
			const opened = (capture.socketOpenedAt ?? 0) + serverMinusBench;
			const reports = [...capture.reports.values()].sort((a, b) => a.t - b.t);
			for (const report of reports) {
				const at = report.t + truth;
				if (at >= opened + CLOCK_SETTLE_MS && at <= end) {
					clockErrors.push(report.value.offsetMs - truth);
				}
				const steady = at >= startAt + STEADY_AFTER_START_MS && at <= end;
				if (steady && !(at >= seekFrom && at < seekAt + STEADY_AFTER_SEEK_MS)) {
					phases.push(report.value.phase);
				}
			}
			const last = reports.filter((report) => report.value.stageId === STAGE_ID).at(-1);
			seeksPerPage.push(last?.value.seeks ?? 0);
			playLatencyMs.push(last?.value.playLatencyMs ?? null);
		});
		return {
			variant: 'schedule',
			condition: condition.name,
			label: condition.label,
			clockErrorMs: summarize(clockErrors.map(Math.abs)),
			clockBiasMs: summarize(clockErrors).mean,
			...measurePlayback(frames, frames, errorOf, timeline),
			seeksPerPage,
			playLatencyMs,
			lockedShare: phases.length
				? phases.filter((phase) => phase === 'locked').length / phases.length
				: null,
			...measureApplied(setup.appProxies),
			machine: stopMeter(),
			pageClockDriftMs: drift,
			notes: [
				`server − bench clock ${serverMinusBench.toFixed(3)} ms; start: ${String(started.payload.cause)}`
			],
			raw: {
				frames,
				...timeline,
				reports: actors.map(({ capture }, i) =>
					[...capture.reports.values()]
						.map((report) => ({ t: report.t + (offsets[i] as number), value: report.value }))
						.sort((a, b) => a.t - b.t)
				)
			}
		};
	} finally {
		experimenter?.close();
		await browser.close();
	}
}
