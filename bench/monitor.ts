/**
 * The live monitor under a 50-room study: the built server (PGlite, or Postgres with
 * BENCH_DATABASE_URL), one dashboard socket, and bots (in the server's process, as "Pilot with
 * bots" runs them) filling dyads that walk through three timed group stages. Prints how long
 * after each room event the dashboard had it (event commit time → frame received; the server
 * and this process share the machine's clock), the frames' rate and size, and how long a second
 * dashboard waits for its snapshot with every room running. Prints figures; not a test.
 *
 *   bun run build && bun bench/monitor.ts [rooms=50]
 */
import { cpus } from 'node:os';
import type { MonitorRoom, MonitorServerMessage } from '../src/lib/monitor';
import { createBlankStudy, createQuestionItem, createStage, type Stage } from '../src/lib/study';
import { createPostgresDatabase } from '../tests/support/databases';
import { startServer, temporaryDataDir } from '../tests/support/server';
import { createAdminApi, publishStudy } from '../tests/support/study-server';
import { signUpFirstAdmin } from '../tests/support/app';

const ROOMS = Number(process.argv[2] ?? 50);
/** The server's cap per request (MAX_BOTS_PER_REQUEST). */
const BOTS_PER_REQUEST = 50;

/**
 * Four group stages the bots answer (they leave timed `first` stages to their timers): a chat
 * first, so the room starts with it, then a questionnaire, a group choice and a last page.
 */
function makeStudy() {
	const study = createBlankStudy('Monitor bench');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 600
	};
	const untimed = (stage: Stage, id: string): Stage =>
		({ ...stage, id, advance: 'all_submitted', durationSeconds: null }) as Stage;
	const questions = createStage('questionnaire', []);
	if (questions.type === 'questionnaire') {
		questions.content.items = [{ ...createQuestionItem('likert', []), id: 'mood', prompt: 'Mood' }];
	}
	const choice = createStage('group_choice', []);
	if (choice.type === 'group_choice') choice.content.prompt = 'Which one?';
	const bye = createStage('instructions', []);
	if (bye.type === 'instructions') bye.content.markdown = 'Almost done.';
	study.stages = [
		untimed(createStage('chat', []), 'talk'),
		untimed(questions, 'mood'),
		untimed(choice, 'pick'),
		untimed(bye, 'bye'),
		{ ...createStage('end', []), id: 'end' }
	] as Stage[];
	return study;
}

type Frame = MonitorServerMessage & { receivedAt: number; bytes: number };

function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return NaN;
	return sorted[
		Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
	]!;
}

const describe = (values: number[]) => {
	const sorted = [...values].sort((a, b) => a - b);
	return `p50 ${percentile(sorted, 50).toFixed(0)} ms, p95 ${percentile(sorted, 95).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms (n=${sorted.length})`;
};

function openMonitor(url: string, origin: string, cookie: string, path: string) {
	const frames: Frame[] = [];
	const socket = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, {
		headers: { origin, cookie }
	} as unknown as string[]);
	socket.addEventListener('message', (event) => {
		const text = String(event.data);
		frames.push({
			...(JSON.parse(text) as MonitorServerMessage),
			receivedAt: Date.now(),
			bytes: text.length
		});
	});
	return { socket, frames };
}

const data = temporaryDataDir();
const database = process.env.BENCH_DATABASE_URL
	? await createPostgresDatabase(process.env.BENCH_DATABASE_URL)
	: null;
const server = await startServer({
	DATA_DIR: data.dir,
	LOG_LEVEL: 'warn',
	// A hundred bots connect from the server's own loopback address.
	SOCKET_UPGRADES_PER_MINUTE: '100000',
	...(database ? { DATABASE_URL: database.url } : {})
});
try {
	const cookie = await signUpFirstAdmin(server);
	const api = createAdminApi(server, cookie);
	const { id: studyId } = await publishStudy(api, makeStudy(), 'Monitor bench');
	const path = `/realtime/studies/${studyId}/monitor`;
	const dashboard = openMonitor(server.url, server.origin, cookie, path);
	while (!dashboard.frames.some((f) => f.type === 'snapshot')) await Bun.sleep(10);

	const startedAt = Date.now();
	for (let left = ROOMS * 2; left > 0; left -= BOTS_PER_REQUEST) {
		await api('POST', `/api/studies/${studyId}/bots`, {
			count: Math.min(BOTS_PER_REQUEST, left),
			thinkMs: [2_000, 8_000],
			chat: false
		});
	}

	/** Latest summary per room, from the frames. */
	const latest = () => {
		const rooms = new Map<string, MonitorRoom>();
		for (const frame of dashboard.frames) {
			if (frame.type === 'rooms' || frame.type === 'snapshot') {
				for (const room of frame.rooms) rooms.set(room.id, room);
			}
		}
		return rooms;
	};
	let secondSnapshotMs = NaN;
	let coldReadMs = NaN;
	let peakRunning = 0;
	const deadline = Date.now() + 5 * 60_000;
	for (;;) {
		const rooms = latest();
		const running = [...rooms.values()].filter((room) => room.finished === null).length;
		peakRunning = Math.max(peakRunning, running);
		// A second dashboard opens while (nearly) every room runs: how long until its snapshot?
		if (Number.isNaN(secondSnapshotMs) && running >= ROOMS * 0.9) {
			const opened = Date.now();
			const second = openMonitor(server.url, server.origin, cookie, path);
			while (!second.frames.some((f) => f.type === 'snapshot')) await Bun.sleep(5);
			secondSnapshotMs = Date.now() - opened;
			second.socket.close();
			// The same picture read cold from the database (every room's log folded), over HTTP.
			const asked = Date.now();
			await api('GET', `/api/studies/${studyId}/monitor`);
			coldReadMs = Date.now() - asked;
		}
		const done = [...rooms.values()].filter((room) => room.finished !== null).length;
		if (done >= ROOMS || Date.now() > deadline) break;
		await Bun.sleep(200);
	}
	const elapsedS = (Date.now() - startedAt) / 1000;

	// One more group on a quiet server: from its formation to the dashboard (the doorbell path).
	const before = new Set(latest().keys());
	await api('POST', `/api/studies/${studyId}/bots`, {
		count: 2,
		thinkMs: [60_000, 60_000],
		chat: false
	});
	let quietAppearance = NaN;
	for (const until = Date.now() + 30_000; Date.now() < until; await Bun.sleep(20)) {
		const frame = dashboard.frames.find(
			(f): f is Extract<Frame, { type: 'rooms' }> =>
				f.type === 'rooms' && f.rooms.some((room) => !before.has(room.id))
		);
		const room = frame?.rooms.find((r) => !before.has(r.id));
		if (frame && room) {
			quietAppearance = frame.receivedAt - room.formedAt;
			break;
		}
	}
	const updates = dashboard.frames.filter(
		(f) => f.type === 'rooms' && f.receivedAt <= startedAt + elapsedS * 1000
	) as Extract<Frame, { type: 'rooms' }>[];
	// Each room in a frame: the time since its latest event was committed. A room's first
	// appearance is counted apart, from its formation: the doorbell and the room's first read.
	const seen = new Set(
		(
			dashboard.frames.find((f) => f.type === 'snapshot') as Extract<Frame, { type: 'snapshot' }>
		).rooms.map((room) => room.id)
	);
	const lags: number[] = [];
	const firstSeen: number[] = [];
	for (const frame of updates) {
		for (const room of frame.rooms) {
			if (seen.has(room.id)) lags.push(frame.receivedAt - room.updatedAt);
			else firstSeen.push(frame.receivedAt - room.formedAt);
			seen.add(room.id);
		}
	}
	const sizes = updates.map((frame) => frame.bytes).sort((a, b) => a - b);
	const rooms = latest();
	console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, bun ${Bun.version}`);
	console.log(`command: bun bench/monitor.ts ${ROOMS} (${database ? 'Postgres' : 'PGlite'})`);
	console.log(
		`rooms: ${rooms.size} formed, ${[...rooms.values()].filter((r) => r.finished).length} finished, peak ${peakRunning} running at once, ${elapsedS.toFixed(0)} s`
	);
	console.log(`event → dashboard (rooms already shown): ${describe(lags)}`);
	console.log(
		`a new room's first appearance, since its formation started (50 forming at once): ${describe(firstSeen)}`
	);
	console.log(`one room formed on a quiet server → dashboard: ${quietAppearance.toFixed(0)} ms`);
	console.log(
		`frames: ${updates.length} room frames (${(updates.length / elapsedS).toFixed(1)}/s), ${updates.reduce((n, f) => n + f.rooms.length, 0)} room updates, size p50 ${percentile(sizes, 50)} B, max ${sizes.at(-1)} B`
	);
	console.log(
		`with ~${ROOMS} rooms running: a second dashboard's snapshot (shares the replica's monitor) ${secondSnapshotMs.toFixed(0)} ms; the picture read cold (GET …/monitor) ${coldReadMs.toFixed(0)} ms`
	);
	dashboard.socket.close();
} finally {
	await server.stop();
	data.remove();
	await database?.drop();
}
