/**
 * Synchronized playback (issue 6): four headless Chromium pages in one room play a 60 s clip
 * through a latency proxy (none; 20 ± 10 ms; 50 ± 25 ms up / 10 ± 5 ms down). Per condition it
 * measures the clock-offset error against the known truth, the inter-participant offset at
 * display time, the time to converge after the start and after a seek, and the seeks; then the
 * same for a host-led baseline (viewers chase a host, as HyperStudy does). Prints figures and
 * writes `.test-output/bench-sync.json`; not a test, it asserts nothing.
 *
 *   bun run build && bun run bench:sync [--only=none,jitter,asymmetric] [--variants=schedule,host-led] [--raw]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBlankStudy, createStage, type StudyDefinition } from '../src/lib/study';
import { makeSyncClip } from '../tests/e2e/support/sync-clip';
import { signUpFirstAdmin } from '../tests/support/app';
import { startServer, temporaryDataDir, type RunningServer } from '../tests/support/server';
import { publishStudy, uploadClip } from './support/experimenter';
import { HOST_LED_DEFAULTS, HostLedRelay } from './support/host-led';
import { LATENCY_CONDITIONS, LatencyProxy } from './support/latency-proxy';
import { formatDetails, formatResults } from './support/sync-report';
import { runHostLed } from './support/run-host-led';
import { runScheduled } from './support/run-scheduled';
import { STAGE_ID, type RunResult } from './support/sync-run';

const PAGES = 4;
const CLIP_SECONDS = 60;
const OUTPUT = resolve(import.meta.dir, '../.test-output/bench-sync.json');
const ENTRY = resolve(import.meta.dir, '../build/server.js');

const option = (name: string) =>
	process.argv
		.find((arg) => arg.startsWith(`--${name}=`))
		?.split('=')[1]
		?.split(',');
const onlyConditions = option('only');
/** Also write every frame of every run (large) next to the summary. */
const writeRaw = process.argv.includes('--raw');
const variants = option('variants') ?? ['schedule', 'host-led'];
const conditions = LATENCY_CONDITIONS.filter(
	(condition) => !onlyConditions || onlyConditions.includes(condition.name)
);

if (!existsSync(ENTRY)) {
	console.error(`${ENTRY} is missing: run \`bun run build\` first (the benchmark runs the build).`);
	process.exit(1);
}

/** A 4-person matched study whose room is one synchronized video, then the end. */
function makeStudy(mediaId: string): StudyDefinition {
	const study = createBlankStudy('Sync benchmark');
	study.settings.session = {
		mode: 'matched',
		groupSize: PAGES,
		minGroupSize: PAGES,
		lobbyTimeoutSeconds: 300
	};
	const video = createStage('video', []);
	if (video.type !== 'video') throw new Error('not a video stage');
	video.title = 'The clip';
	video.content.mediaId = mediaId;
	video.content.bufferTimeoutSeconds = 30;
	study.stages = [
		{ ...video, id: STAGE_ID, advance: 'all_submitted' },
		createStage('end', [STAGE_ID])
	];
	return study;
}

// Everything started is stopped on the way out, errors and Ctrl-C included.
const cleanups: (() => unknown)[] = [];
async function cleanUp(): Promise<void> {
	for (const cleanup of cleanups.splice(0).reverse()) {
		try {
			await cleanup();
		} catch (error) {
			console.error('cleanup failed:', error);
		}
	}
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.on(signal, () => void cleanUp().finally(() => process.exit(130)));
}

const startedAt = new Date();
const results: RunResult[] = [];
const failures: { variant: string; condition: string; error: string }[] = [];
try {
	const data = temporaryDataDir();
	cleanups.push(data.remove);
	const folder = mkdtempSync(join(tmpdir(), 'ensemble-bench-sync-'));
	cleanups.push(() => rmSync(folder, { recursive: true, force: true }));

	// One proxy per page in front of the server, and one per page in front of the baseline's
	// relay; the server must allow the proxies' origins, so they listen before it starts.
	const appProxies = Array.from({ length: PAGES }, (_, i) => new LatencyProxy(i + 1));
	const relayProxies = Array.from({ length: PAGES }, (_, i) => new LatencyProxy(i + 11));
	for (const proxy of [...appProxies, ...relayProxies]) cleanups.push(() => proxy.close());
	const server: RunningServer = await startServer({
		DATA_DIR: data.dir,
		DATABASE_URL: '',
		REDIS_URL: '',
		LOG_LEVEL: 'warn',
		ALLOWED_ORIGINS: appProxies.map((proxy) => proxy.origin).join(',')
	});
	cleanups.push(() => server.stop());
	for (const proxy of appProxies) proxy.targetPort = Number(new URL(server.url).port);

	const cookie = await signUpFirstAdmin(server);
	const clip = join(folder, 'sync-clip.webm');
	makeSyncClip(clip, CLIP_SECONDS);
	const mediaId = await uploadClip(server, cookie, clip);
	const link = await publishStudy(server, cookie, makeStudy(mediaId));
	const relay = new HostLedRelay(clip);
	cleanups.push(() => relay.close());
	for (const proxy of relayProxies) proxy.targetPort = relay.port;
	const setup = { server, cookie, link, appProxies, relay, relayProxies };

	console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, bun ${Bun.version}`);
	console.log(`command: bun run bench:sync ${process.argv.slice(2).join(' ')}`.trim());
	console.log(
		`${PAGES} pages (Chromium, ${PAGES} contexts), a ${CLIP_SECONDS} s VP9 clip at 30 fps; seek to 10 s at ~30 s`
	);
	for (const condition of conditions)
		console.log(`condition ${condition.name}: ${condition.label}`);
	console.log(
		'(asymmetric is our choice of split, an upload-congested link: an NTP-style estimate assumes' +
			' equal legs and errs by about half the difference, alike for every page on such a link)'
	);
	console.log(
		`host-led baseline: host reports every ${HOST_LED_DEFAULTS.reportIntervalMs} ms; viewers: Kalman` +
			` on the host position, PID (Kp ${HOST_LED_DEFAULTS.kp}, Ki ${HOST_LED_DEFAULTS.ki},` +
			` Kd ${HOST_LED_DEFAULTS.kd}, rate 1 ± ${HOST_LED_DEFAULTS.rateBand}), seek beyond` +
			` ${HOST_LED_DEFAULTS.seekThresholdS} s, dead band ${HOST_LED_DEFAULTS.deadBandS * 1000} ms`
	);

	let seed = 1;
	for (const condition of conditions) {
		for (const variant of variants) {
			const run = variant === 'host-led' ? runHostLed : runScheduled;
			const began = performance.now();
			console.log(`\n… ${variant}, ${condition.name}`);
			try {
				const result = await run(setup, condition, seed++);
				results.push(result);
				console.log(formatResults([result]));
			} catch (error) {
				// One failed run still leaves the others' figures worth printing.
				console.error(error);
				failures.push({ variant, condition: condition.name, error: String(error) });
			}
			console.log(`(${((performance.now() - began) / 1000).toFixed(0)} s)`);
		}
	}

	console.log('\nSynchronized playback, per condition and variant:');
	console.log(formatResults(results));
	console.log('\nDetails:');
	console.log(formatDetails(results));
	console.log(
		[
			'',
			'clock error: |offset estimate − true offset| (server − page clock, from Date.now() ticks),',
			'  sync reports from 5 s after the page joined (host-led: the pages’ own pings to the relay).',
			'pairwise: |display-time difference of the same frame| over the 6 page pairs, from 5 s after the',
			'  start, without the 3 s after the seek took effect; pair means: the signed mean per pair.',
			'converge: time from the start (seek) until every page’s frames are within ±20 ms of the target',
			'  for 1 s (schedule: the server’s schedule; host-led: the host’s display of the same frame);',
			'  smoothed: the same on each frame’s error averaged over ±250 ms (the media clock, not the',
			'  60 Hz refresh each frame is shown on). start/seek error: each page’s first moving frame.'
		].join('\n')
	);
	mkdirSync(resolve(OUTPUT, '..'), { recursive: true });
	writeFileSync(
		OUTPUT,
		JSON.stringify(
			{
				startedAt: startedAt.toISOString(),
				machine: { cpus: cpus().length, model: cpus()[0]?.model, bun: Bun.version },
				conditions,
				hostLed: HOST_LED_DEFAULTS,
				results: results.map(({ raw, ...result }) => (writeRaw ? { ...result, raw } : result)),
				failures
			},
			null,
			'\t'
		)
	);
	console.log(`\nwritten: ${OUTPUT}`);
	if (failures.length > 0) process.exitCode = 1;
} catch (error) {
	console.error(error);
	process.exitCode = 1;
} finally {
	await cleanUp();
}
