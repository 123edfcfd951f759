import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { MonitorRoom, MonitorServerMessage } from '../../src/lib/monitor';
import { CloseCode } from '../../src/lib/protocol';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';
import { closed, nextMessage, opened, openSocket, upgradeStatus } from '../support/app';
import type { RunningServer } from '../support/server';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type AdminApi,
	type StudyServer
} from '../support/study-server';

// The study monitor's socket on the built server: refused before any socket exists without an
// allowed Origin, a session or access; a snapshot, then deltas within a second of each change,
// for interventions sent over the API to a room two bots sit in.
setDefaultTimeout(90_000);

/** A dyad study whose first group stage takes long (the bots think for a minute). */
function makeStudy(): StudyDefinition {
	const study = createBlankStudy('Monitor socket');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	study.stages = [
		{ ...createStage('instructions', []), id: 'intro', advance: 'first', durationSeconds: 600 },
		{ ...createStage('chat', []), id: 'talk', advance: 'first', durationSeconds: 600 },
		{ ...createStage('end', []), id: 'end' }
	] as StudyDefinition['stages'];
	return study;
}

type Frame = MonitorServerMessage & { receivedAt: number };

/** A monitor socket that keeps every frame and can wait for one. */
function recordFrames(socket: WebSocket): Frame[] {
	const frames: Frame[] = [];
	socket.addEventListener('message', (event) => {
		frames.push({
			...(JSON.parse(String(event.data)) as MonitorServerMessage),
			receivedAt: Date.now()
		});
	});
	return frames;
}

/** The room as the latest frame that carried it shows it. */
function latestRoom(frames: Frame[], roomId?: string): MonitorRoom | undefined {
	for (let i = frames.length - 1; i >= 0; i--) {
		const frame = frames[i]!;
		if (frame.type !== 'rooms' && frame.type !== 'snapshot') continue;
		const room = roomId ? frame.rooms.find((r) => r.id === roomId) : frame.rooms[0];
		if (room) return room;
	}
	return undefined;
}

async function until<T>(what: string, read: () => T | undefined | false, timeoutMs = 20_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = read();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await Bun.sleep(10);
	}
}

type LoggedEvent = { seq: number; actor: string; name: string; payload: unknown };

describe('the study monitor socket on the built server', () => {
	let setup: StudyServer;
	let server: RunningServer;
	let api: AdminApi;
	let studyId: string;
	let path: string;

	beforeAll(async () => {
		setup = await startStudyServer(null);
		server = setup.server;
		api = createAdminApi(server, setup.admin);
		studyId = (await publishStudy(api, makeStudy(), 'Monitor socket')).id;
		path = `/realtime/studies/${studyId}/monitor`;
	});
	afterAll(async () => {
		await setup?.stop();
	});

	/** A room's whole log, read over the researcher's own room socket (PROTOCOL §8a). */
	async function readRoomLog(roomId: string): Promise<LoggedEvent[]> {
		const socket = openSocket(server, `/realtime/rooms/${roomId}`, { cookie: setup.admin });
		const events = new Map<number, LoggedEvent>();
		let head = -1;
		const done = new Promise<void>((resolve) => {
			socket.addEventListener('message', (message) => {
				const frame = JSON.parse(String(message.data));
				if (frame.type === 'joined') head = frame.head;
				for (const event of frame.type === 'event' ? [frame.event] : (frame.events ?? [])) {
					events.set(event.seq, event);
				}
				if (head >= 0 && events.size >= head) resolve();
			});
		});
		await opened(socket);
		socket.send(JSON.stringify({ type: 'join', v: 1, lastSeq: 0 }));
		await done;
		socket.close();
		return [...events.values()].sort((a, b) => a.seq - b.seq);
	}

	test('upgrades are refused before any socket exists: origin, session, access', async () => {
		const cookie = setup.admin;
		const cases: [string, string, Record<string, string>, number][] = [
			['missing Origin', path, { cookie }, 403],
			['foreign Origin', path, { cookie, Origin: 'https://evil.example' }, 403],
			['no session', path, { Origin: server.origin }, 401],
			[
				'unknown study',
				'/realtime/studies/no-such-study/monitor',
				{ cookie, Origin: server.origin },
				404
			]
		];
		for (const [what, target, headers, status] of cases) {
			expect({ what, status: await upgradeStatus(server, target, headers) }).toEqual({
				what,
				status
			});
		}
		const plain = await fetch(`${server.url}${path}`, { headers: { cookie } });
		expect(plain.status).toBe(426);
	});

	test('snapshot, then every intervention on the grid within a second, attributed in the log', async () => {
		const socket = openSocket(server, path, { cookie: setup.admin });
		const frames = recordFrames(socket);
		await opened(socket);
		const snapshot = await until('the snapshot', () => frames.find((f) => f.type === 'snapshot'));
		expect(snapshot).toMatchObject({ v: 1, rooms: [], counts: [] });

		// Two bots take the link; they think for a minute on every stage, so only we move the room.
		await api('POST', `/api/studies/${studyId}/bots`, {
			count: 2,
			thinkMs: [60_000, 60_000],
			chat: false
		});
		const formed = await until('a room with both bots connected', () => {
			const room = latestRoom(frames);
			return room && room.members.length === 2 && room.members.every((m) => m.connected) && room;
		});
		expect(formed.stage).toMatchObject({ index: 0, id: 'intro' });
		expect(formed.members.every((m) => m.isBot)).toBe(true);
		const roomId = formed.id;

		/** Sends an intervention; resolves with how long until the grid showed `shown`. */
		const intervene = async (
			name: string,
			payload: Record<string, unknown>,
			shown: (room: MonitorRoom) => boolean
		) => {
			const sentAt = Date.now();
			const answer = await api<{ seq: number }>(
				'POST',
				`/api/studies/${studyId}/monitor/rooms/${roomId}/commands`,
				{ id: crypto.randomUUID(), name, payload }
			);
			expect(answer.seq).toBeGreaterThan(0);
			const frame = await until(name, () =>
				frames.find(
					(f) =>
						f.receivedAt >= sentAt &&
						f.type === 'rooms' &&
						f.rooms.some((r) => r.id === roomId && shown(r))
				)
			);
			return frame.receivedAt - sentAt;
		};

		const latencies = [
			await intervene('room.pause', {}, (r) => r.paused?.reason === 'experimenter'),
			await intervene('room.resume', {}, (r) => r.paused === null),
			await intervene('stage.advance', { fromStageId: 'intro' }, (r) => r.stage.id === 'talk'),
			await intervene(
				'room.end',
				{ outcome: 'technical_error' },
				(r) => r.finished?.outcome === 'technical_error'
			)
		];
		for (const latency of latencies) expect(latency).toBeLessThan(1_000);
		console.info(`monitor: intervention → grid ${latencies.map((ms) => `${ms} ms`).join(', ')}`);

		const counts = await until('the outcome counts', () =>
			frames.findLast(
				(f): f is Extract<Frame, { type: 'counts' }> =>
					f.type === 'counts' && f.counts.some((c) => c.outcome === 'technical_error')
			)
		);
		expect(counts.counts).toEqual([
			{ outcome: 'technical_error', condition: 'control', participants: 2, bots: 2 }
		]);

		// Each intervention is a room event with the researcher as its actor.
		const { user } = await api<{ user: { id: string } }>('GET', '/api/me');
		const log = await readRoomLog(roomId);
		const byResearcher = log.filter((e) => e.actor === `u:${user.id}`).map((e) => e.name);
		expect(byResearcher).toEqual(
			expect.arrayContaining(['room.paused', 'room.resumed', 'stage.advanced', 'room.finished'])
		);
		expect(log.find((e) => e.name === 'stage.advanced')?.payload).toMatchObject({
			cause: 'experimenter'
		});

		// A refused intervention changes nothing and says why.
		const refused = await fetch(
			`${server.url}/api/studies/${studyId}/monitor/rooms/${roomId}/commands`,
			{
				method: 'POST',
				headers: { cookie: setup.admin, origin: server.origin, 'content-type': 'application/json' },
				body: JSON.stringify({ id: 'late', name: 'room.pause', payload: {} })
			}
		);
		expect(refused.status).toBe(409);
		expect(await refused.json()).toMatchObject({ error: 'room_finished' });

		// The same picture over HTTP, for scripts.
		const http = await api<{ rooms: MonitorRoom[] }>('GET', `/api/studies/${studyId}/monitor`);
		expect(http.rooms.find((r) => r.id === roomId)?.finished?.outcome).toBe('technical_error');

		// `refresh` gets the whole picture again; anything else an error frame.
		const again = nextMessage<MonitorServerMessage>(socket, (m) => m.type === 'snapshot');
		socket.send(JSON.stringify({ type: 'refresh' }));
		expect((await again).type).toBe('snapshot');
		const error = nextMessage<MonitorServerMessage>(socket, (m) => m.type === 'error');
		socket.send('{"type":"join"}');
		expect(await error).toMatchObject({ type: 'error', code: 'invalid_message' });

		// Signing out closes the dashboard within a second.
		const closing = closed(socket, 3_000);
		const signedOutAt = performance.now();
		const signOut = await fetch(`${server.url}/api/auth/logout`, {
			method: 'POST',
			headers: { cookie: setup.admin, origin: server.origin }
		});
		expect(signOut.status).toBe(204);
		expect((await closing).code).toBe(CloseCode.Unauthorized);
		expect(performance.now() - signedOutAt).toBeLessThan(1_000);
	});
});
