/**
 * Limits per person under abuse (issue 14, section 4), on the built server over loopback. One
 * well-behaved participant pings the server every 100 ms throughout; the other member of their
 * room (the abuser, with their own study cookie) first opens thousands of sockets as fast as
 * the server takes them (the storm), then floods telemetry over one socket. Prints the
 * well-behaved participant's ping round trips per phase, the server's memory, the sockets the
 * abuser still holds after the storm, and the telemetry samples accepted per second.
 *
 * PGlite by default; Postgres when DATABASE_URL is set (a fresh database is created on that
 * server and dropped after). Stops by itself (a hard limit of five minutes). Not a test.
 *
 *   bun run build && bun run bench:abuse [sockets=3000] [floodSeconds=20]
 *   SOCKET_UPGRADES_PER_MINUTE=1000000 bun run bench:abuse   # the caps alone, no upgrade limit
 */
import { readFileSync } from 'node:fs';
import { PROTOCOL_VERSION } from '../src/lib/protocol';
import { createBlankStudy, createStage, type Stage } from '../src/lib/study';
import { openSocket, signUpFirstAdmin } from '../tests/support/app';
import { createPostgresDatabase } from '../tests/support/databases';
import { actOnStep, joinStudy, readStep } from '../tests/support/journey';
import { startServer, temporaryDataDir } from '../tests/support/server';
import { createAdminApi, publishStudy } from '../tests/support/study-server';

const STORM_SOCKETS = Number(process.argv[2] ?? 3000);
const FLOOD_SECONDS = Number(process.argv[3] ?? 20);
/** Sockets the storm has opening at once (a browser-free client could do more; this suffices). */
const STORM_CONCURRENCY = 200;
/** The storm stops here even if sockets are still opening. */
const STORM_LIMIT_MS = 60_000;
/** Frames a second from the flooding socket: under the hub's 100 messages/s, so it is not cut off. */
const FLOOD_FRAMES_PER_SECOND = 50;
/** 400 rating-sized samples fill a frame to just under 64 KiB. */
const FLOOD_BATCH = 400;
const HARD_LIMIT_MS = 5 * 60_000;

const hardStop = setTimeout(() => {
	console.error('bench:abuse: hard time limit reached, stopping');
	process.exit(2);
}, HARD_LIMIT_MS);

function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return NaN;
	return sorted[
		Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
	]!;
}

function describeRtts(values: number[]): string {
	const sorted = [...values].sort((a, b) => a - b);
	const f = (v: number) => (Number.isNaN(v) ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(0));
	return `p50 ${f(percentile(sorted, 50))} ms, p95 ${f(percentile(sorted, 95))} ms, max ${f(sorted.at(-1) ?? NaN)} ms (n=${sorted.length})`;
}

/** CPU seconds the process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
	const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
	return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMiB(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** A matched dyad whose room stage is an untimed chat: both land in one room at once. */
function dyadStudy() {
	const study = createBlankStudy('Abuse bench');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 600
	};
	study.stages = [
		{ ...createStage('chat', []), id: 'talk', advance: 'experimenter', durationSeconds: null },
		{ ...createStage('end', []), id: 'end' }
	] as Stage[];
	return study;
}

function waitOpen(socket: WebSocket): Promise<void> {
	return new Promise((resolve, reject) => {
		socket.addEventListener('open', () => resolve(), { once: true });
		socket.addEventListener('close', () => reject(new Error('closed before open')), { once: true });
	});
}

async function joinedSocket(server: { url: string; origin: string }, path: string, cookie: string) {
	const socket = openSocket(server, path, { cookie });
	await waitOpen(socket);
	const joined = new Promise<void>((resolve, reject) => {
		const listener = (event: MessageEvent) => {
			if ((JSON.parse(String(event.data)) as { type: string }).type !== 'joined') return;
			socket.removeEventListener('message', listener);
			resolve();
		};
		socket.addEventListener('message', listener);
		socket.addEventListener('close', () => reject(new Error('closed before joined')), {
			once: true
		});
	});
	socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
	await joined;
	return socket;
}

const data = temporaryDataDir();
const database = process.env.DATABASE_URL
	? await createPostgresDatabase(process.env.DATABASE_URL)
	: null;
const server = await startServer(
	{
		DATA_DIR: data.dir,
		LOG_LEVEL: 'warn',
		...(database ? { DATABASE_URL: database.url } : {}),
		...(process.env.SOCKET_UPGRADES_PER_MINUTE
			? { SOCKET_UPGRADES_PER_MINUTE: process.env.SOCKET_UPGRADES_PER_MINUTE }
			: {})
	},
	120_000
);
const pid = server.process.pid;

try {
	const admin = await signUpFirstAdmin(server);
	const api = createAdminApi(server, admin);
	const { id: studyId, slug } = await publishStudy(api, dyadStudy(), 'Abuse bench');
	const at = { base: server.url, origin: server.origin };
	const honestCookie = await joinStudy(at, slug);
	const abuserCookie = await joinStudy(at, slug);
	for (const cookie of [honestCookie, abuserCookie]) await actOnStep(at, slug, cookie, 'ready');
	const step = await readStep(at, slug, honestCookie);
	if (step?.kind !== 'in_room') throw new Error(`expected a room, got ${step?.kind}`);
	const path = `/s/${slug}/realtime/${step.roomId as string}`;

	// The well-behaved participant: one socket, a ping every 100 ms, in its own thread.
	const pinger = new Worker(new URL('./support/pinger.ts', import.meta.url).href);
	const ready = new Promise<void>((resolve) => {
		pinger.onmessage = () => resolve();
	});
	const socketUrl = `${server.url.replace(/^http/, 'ws')}${path}`;
	pinger.postMessage({ start: { url: socketUrl, origin: server.origin, cookie: honestCookie } });
	await ready;
	const setPhase = (phase: string) => pinger.postMessage({ phase });
	let peakRss = rssMiB(pid);
	const rssSampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(pid))), 250);

	await Bun.sleep(5_000);
	const baselineRss = rssMiB(pid);

	// The storm: one study cookie, thousands of sockets, each joining as soon as it opens.
	setPhase('storm');
	const storm = { opened: 0, joined: 0, refused: 0, closedBy: new Map<number, number>() };
	const stormSockets: WebSocket[] = [];
	const stormStarted = performance.now();
	const stormCpu = cpuSeconds(pid);
	let pending = 0;
	for (let i = 0; i < STORM_SOCKETS; i++) {
		if (performance.now() - stormStarted > STORM_LIMIT_MS) break;
		while (pending >= STORM_CONCURRENCY) await Bun.sleep(1);
		pending++;
		const socket = openSocket(server, path, { cookie: abuserCookie });
		stormSockets.push(socket);
		let settled = false;
		const settle = () => {
			if (!settled) pending--;
			settled = true;
		};
		socket.addEventListener('open', () => {
			storm.opened++;
			settle();
			socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
		});
		socket.addEventListener('message', (event) => {
			if (String(event.data).includes('"type":"joined"')) storm.joined++;
		});
		socket.addEventListener('close', (event) => {
			if (!settled) storm.refused++;
			else storm.closedBy.set(event.code, (storm.closedBy.get(event.code) ?? 0) + 1);
			settle();
		});
	}
	while (pending > 0 && performance.now() - stormStarted < STORM_LIMIT_MS) await Bun.sleep(10);
	const stormMs = performance.now() - stormStarted;
	const stormCpuUsed = cpuSeconds(pid) - stormCpu;
	await Bun.sleep(3_000);
	setPhase('after storm');
	const held = stormSockets.filter((s) => s.readyState === WebSocket.OPEN).length;
	const stormRss = peakRss;
	const metrics = await (await fetch(`${server.url}/metrics`)).text();
	const serverConnections = Number(/^ensemble_connections (\S+)$/m.exec(metrics)?.[1] ?? NaN);
	await Bun.sleep(3_000);
	for (const socket of stormSockets) socket.close();
	await Bun.sleep(1_000);

	// The flood: the abuser sends full telemetry frames, 50 a second, ignoring retryAfterMs, and
	// opens a new socket whenever the server closes one.
	setPhase('telemetry flood');
	let accepted = 0;
	let refusedBatches = 0;
	let answers = 0;
	const floodCloses = new Map<number, number>();
	let reconnectsRefused = 0;
	const connectFlooder = async (): Promise<WebSocket | null> => {
		let socket: WebSocket;
		try {
			socket = await joinedSocket(server, path, abuserCookie);
		} catch {
			reconnectsRefused++;
			return null;
		}
		socket.addEventListener('close', (event) =>
			floodCloses.set(event.code, (floodCloses.get(event.code) ?? 0) + 1)
		);
		socket.addEventListener('message', (event) => {
			const message = JSON.parse(String(event.data)) as {
				type: string;
				accepted?: number;
				retryAfterMs?: number;
			};
			if (message.type !== 'telemetry') return;
			answers++;
			accepted += message.accepted ?? 0;
			if (message.retryAfterMs !== undefined) refusedBatches++;
		});
		return socket;
	};
	let flooder = await connectFlooder();
	const floodStarted = performance.now();
	const floodCpu = cpuSeconds(pid);
	let frames = 0;
	let sample = 0;
	while (performance.now() - floodStarted < FLOOD_SECONDS * 1000) {
		if (flooder?.readyState !== WebSocket.OPEN) {
			flooder = await connectFlooder();
			if (!flooder) await Bun.sleep(100);
			continue;
		}
		const samples = Array.from({ length: FLOOD_BATCH }, () => {
			const n = sample++;
			return {
				id: `f-${n}`,
				kind: 'video.rating',
				t: Date.now(),
				value: { stageId: 'talk', mediaTime: n / 60, serverTime: Date.now(), value: n % 10 }
			};
		});
		flooder.send(JSON.stringify({ type: 'telemetry', samples }));
		frames++;
		const due = floodStarted + (frames * 1000) / FLOOD_FRAMES_PER_SECOND;
		await Bun.sleep(Math.max(0, due - performance.now()));
	}
	const floodMs = performance.now() - floodStarted;
	const floodCpuUsed = cpuSeconds(pid) - floodCpu;
	await Bun.sleep(2_000);
	const floodRss = rssMiB(pid);
	flooder?.close();
	clearInterval(rssSampler);
	const { rtts, closed: honestClosed } = await new Promise<{
		rtts: Record<string, number[]>;
		closed: number | null;
	}>((resolve) => {
		pinger.onmessage = (event: MessageEvent) => resolve(event.data);
		pinger.postMessage({ stop: true });
	});
	pinger.terminate();
	// What was stored: the Data tab's row count for the study's telemetry.
	await Bun.sleep(1_000);
	const counts = (
		await api<{ counts: { telemetry: number } }>('GET', `/api/studies/${studyId}/data`)
	).counts;

	const closes = [...storm.closedBy].map(([code, n]) => `${n}× ${code}`).join(', ') || 'none';
	console.log(`bench:abuse on ${database ? 'Postgres' : 'PGlite'}, ${new Date().toISOString()}`);
	console.log(
		`  upgrade limit: ${process.env.SOCKET_UPGRADES_PER_MINUTE ?? 'default'} per minute per address`
	);
	console.log(`well-behaved participant's ping round trip (a ping every 100 ms):`);
	for (const name of ['baseline', 'storm', 'after storm', 'telemetry flood']) {
		console.log(`  ${name.padEnd(16)} ${describeRtts(rtts[name] ?? [])}`);
	}
	console.log(
		`  its socket: ${honestClosed === null ? 'open throughout' : `closed ${honestClosed}`}`
	);
	console.log(
		`storm: ${STORM_SOCKETS} sockets with one study cookie in ${(stormMs / 1000).toFixed(1)} s: ` +
			`${storm.opened} opened, ${storm.joined} joined, ${storm.refused} refused before opening; closed by the server: ${closes}`
	);
	console.log(
		`  sockets the abuser holds 3 s after the storm: ${held} (server: ${serverConnections} room sockets in all, the well-behaved one included)`
	);
	console.log(
		`  server CPU during the storm: ${stormCpuUsed.toFixed(1)} s; RSS: ${baselineRss.toFixed(0)} MiB before, peak ${stormRss.toFixed(0)} MiB (+${(stormRss - baselineRss).toFixed(0)})`
	);
	console.log(
		`telemetry flood: ${frames} frames of ${FLOOD_BATCH} samples in ${(floodMs / 1000).toFixed(1)} s ` +
			`(${Math.round((frames * FLOOD_BATCH) / (floodMs / 1000))} samples/s offered), ${answers} answers, ${refusedBatches} refused with retryAfterMs; ` +
			`sockets closed by the server: ${[...floodCloses].map(([code, n]) => `${n}× ${code}`).join(', ') || 'none'}; new sockets refused: ${reconnectsRefused}`
	);
	console.log(
		`  accepted ${accepted} samples: ${Math.round(accepted / (floodMs / 1000))} samples/s; stored in the study: ${counts.telemetry}; server CPU ${floodCpuUsed.toFixed(1)} s, RSS ${floodRss.toFixed(0)} MiB`
	);
} finally {
	clearTimeout(hardStop);
	await server.stop();
	data.remove();
	await database?.drop();
}
