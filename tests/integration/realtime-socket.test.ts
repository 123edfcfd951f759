import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { connect as connectTcp } from 'node:net';
import { CloseCode, PROTOCOL_VERSION } from '../../src/lib/protocol';
import {
	closed,
	createRoom,
	mintTicket,
	nextMessage,
	opened,
	openSocket,
	signUpFirstAdmin,
	upgradeStatus
} from '../support/app';
import { startServer, temporaryDataDir, type RunningServer } from '../support/server';

// Real sockets against the built server: the security edges of the realtime layer.
setDefaultTimeout(60_000);

const join = { type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 };

async function metric(server: RunningServer, name: string): Promise<number> {
	const text = await (await fetch(`${server.url}/metrics`)).text();
	return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

describe('realtime sockets on the built server', () => {
	const data = temporaryDataDir();
	let server: RunningServer;
	let cookie: string;
	let roomId: string;

	/** A socket of a fresh sandbox guest (every ticket without `guest` is a new one). */
	const joinedSocket = async () => {
		const ticket = await mintTicket(server, cookie, roomId);
		const socket = openSocket(server, ticket.path);
		await opened(socket);
		const reply = nextMessage(socket, (m) => m.type === 'joined');
		socket.send(JSON.stringify(join));
		await reply;
		return socket;
	};

	beforeAll(async () => {
		server = await startServer({ DATA_DIR: data.dir });
		cookie = await signUpFirstAdmin(server);
		roomId = await createRoom(server, cookie);
	});
	afterAll(async () => {
		await server?.stop();
		data.remove();
	});

	test('upgrades are refused before any socket exists: origin, auth, room', async () => {
		const ticket = await mintTicket(server, cookie, roomId);
		const otherRoom = await createRoom(server, cookie);
		const otherTicket = await mintTicket(server, cookie, otherRoom);
		const cases: Array<[string, string, Record<string, string>, number]> = [
			['missing Origin', ticket.path, {}, 403],
			['foreign Origin', ticket.path, { Origin: 'https://evil.example' }, 403],
			['no ticket, no session', `/realtime/rooms/${roomId}`, { Origin: server.origin }, 401],
			[
				'forged ticket',
				`/realtime/rooms/${roomId}?ticket=${ticket.ticket.slice(0, -4)}AAAA`,
				{ Origin: server.origin },
				401
			],
			[
				'ticket for another room',
				`/realtime/rooms/${roomId}?ticket=${otherTicket.ticket}`,
				{ Origin: server.origin },
				403
			],
			[
				'unknown room (signed in)',
				'/realtime/rooms/no-such-room',
				{ Origin: server.origin, Cookie: cookie },
				404
			],
			['valid ticket', ticket.path, { Origin: server.origin }, 101]
		];
		for (const [name, path, headers, status] of cases) {
			expect({ name, status: await upgradeStatus(server, path, headers) }).toEqual({
				name,
				status
			});
		}
		expect(await metric(server, 'ensemble_upgrades_rejected_total')).toBe(6);
	});

	test('a signed-in experimenter may open a room socket with the session cookie', async () => {
		const socket = openSocket(server, `/realtime/rooms/${roomId}`, { cookie });
		await opened(socket);
		socket.send(JSON.stringify(join));
		const joined = await nextMessage<{ type: string; actor: string }>(
			socket,
			(m) => m.type === 'joined'
		);
		expect(joined.actor).toStartWith('u:');
		socket.close();
	});

	test('an oversized frame closes the socket with 1009', async () => {
		const socket = await joinedSocket();
		const done = closed(socket);
		socket.send(JSON.stringify({ type: 'ephemeral', kind: 'big', data: 'x'.repeat(70_000) }));
		expect((await done).code).toBe(CloseCode.TooLarge);
	});

	test('garbage frames get error replies and the socket keeps working', async () => {
		const socket = await joinedSocket();
		const errors: string[] = [];
		socket.addEventListener('message', (event) => {
			const message = JSON.parse(String(event.data)) as { type: string; code?: string };
			if (message.type === 'error') errors.push(message.code!);
		});
		for (const frame of [
			'{oops',
			'[1,2]',
			'{"type":"command"}',
			'{"type":"x","__proto__":{"a":1}}'
		])
			socket.send(frame);
		socket.send(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
		const ack = nextMessage(socket, (m) => m.type === 'ack');
		socket.send(
			JSON.stringify({ type: 'command', id: 'ok-1', name: 'chat.send', payload: { text: 'fine' } })
		);
		expect(await ack).toMatchObject({ id: 'ok-1' });
		expect(errors).toEqual([
			'invalid_json',
			'invalid_message',
			'invalid_message',
			'invalid_message',
			'binary_not_supported'
		]);
		socket.close();
	});

	test('a flood is closed with 1008', async () => {
		const socket = await joinedSocket();
		const done = closed(socket);
		for (let i = 0; i < 400; i++) socket.send(JSON.stringify({ type: 'ping', id: i, t0: 0 }));
		expect((await done).code).toBe(CloseCode.RateLimited);
	});

	test('a reader that stops reading is cut off at the 1 MiB backpressure limit', async () => {
		const ticket = await mintTicket(server, cookie, roomId);
		const url = new URL(server.url);
		const slow = connectTcp({ host: url.hostname, port: Number(url.port) });
		await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
		slow.write(
			[
				`GET ${ticket.path} HTTP/1.1`,
				`Host: ${url.host}`,
				'Connection: Upgrade',
				'Upgrade: websocket',
				'Sec-WebSocket-Version: 13',
				`Sec-WebSocket-Key: ${btoa('slow-reader-key!')}`,
				`Origin: ${server.origin}`,
				'',
				''
			].join('\r\n')
		);
		await new Promise<void>((resolve) => slow.once('data', () => resolve()));
		// A masked client frame carrying the join message, then never read again.
		const payload = new TextEncoder().encode(JSON.stringify(join));
		const header = new Uint8Array([0x81, 0x80 | payload.length, 0, 0, 0, 0]);
		slow.write(Buffer.concat([header, payload]));
		slow.pause();
		await Bun.sleep(200);
		const before = await metric(server, 'ensemble_connections');

		const talkers = await Promise.all(Array.from({ length: 8 }, () => joinedSocket()));
		const chunk = 'y'.repeat(30_000);
		for (let round = 0; round < 60; round++) {
			for (const talker of talkers)
				talker.send(JSON.stringify({ type: 'ephemeral', kind: 'blob', data: chunk }));
			await Bun.sleep(10);
			if ((await metric(server, 'ensemble_connections')) < before + talkers.length) break;
		}
		// 8 × 60 × 30 kB would be 14 MB queued for the sloth; the server closed it at 1 MiB instead.
		const deadline = Date.now() + 5_000;
		while (
			Date.now() < deadline &&
			(await metric(server, 'ensemble_connections')) >= before + talkers.length
		) {
			await Bun.sleep(50);
		}
		expect(await metric(server, 'ensemble_connections')).toBe(before + talkers.length - 1);
		for (const talker of talkers) talker.close();
		slow.destroy();
	});

	test('signing out closes that session’s sockets within a second', async () => {
		const login = await fetch(`${server.url}/api/auth/login`, {
			method: 'POST',
			headers: { origin: server.origin, 'content-type': 'application/json' },
			body: JSON.stringify({ email: 'ada@test.invalid', password: 'sturdy evening lantern' })
		});
		const second = login.headers.getSetCookie()[0]!.split(';')[0]!;
		const socket = openSocket(server, `/realtime/rooms/${roomId}`, { cookie: second });
		await opened(socket);
		socket.send(JSON.stringify(join));
		await nextMessage(socket, (m) => m.type === 'joined');
		const done = closed(socket, 3_000);
		const started = performance.now();
		await fetch(`${server.url}/api/auth/logout`, {
			method: 'POST',
			headers: { origin: server.origin, cookie: second }
		});
		expect((await done).code).toBe(CloseCode.Unauthorized);
		expect(performance.now() - started).toBeLessThan(1_000);
	});

	test('SIGTERM tells every socket to go away (1001) and exits cleanly', async () => {
		const socket = await joinedSocket();
		const done = closed(socket);
		expect(await server.stop('SIGTERM')).toBe(0);
		expect((await done).code).toBe(CloseCode.GoingAway);
	});
});
