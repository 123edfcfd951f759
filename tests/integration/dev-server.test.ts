import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import type { Subprocess } from 'bun';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import {
	createRoom,
	mintTicket,
	nextMessage,
	opened,
	openSocket,
	signUpFirstAdmin
} from '../support/app';
import { findFreePort, temporaryDataDir } from '../support/server';

// `vite dev` serves room sockets through the dev plugin, with the same core as production.
setDefaultTimeout(90_000);

describe('vite dev', () => {
	const data = temporaryDataDir();
	let dev: Subprocess | undefined;
	afterAll(async () => {
		dev?.kill('SIGTERM');
		await dev?.exited;
		data.remove();
	});

	test('room sockets work through the dev plugin and Vite’s HMR socket is untouched', async () => {
		const port = findFreePort();
		const origin = `http://127.0.0.1:${port}`;
		dev = Bun.spawn(
			// As `bun run dev` does: Vite on Bun, so server code can use Bun's APIs.
			[
				'bun',
				'--bun',
				'vite',
				'dev',
				'--port',
				String(port),
				'--strictPort',
				'--host',
				'127.0.0.1'
			],
			{
				env: {
					...process.env,
					// bun test sets NODE_ENV=test; the dev server must run as it does for a developer.
					NODE_ENV: 'development',
					DATA_DIR: data.dir,
					ORIGIN: origin,
					DATABASE_URL: '',
					REDIS_URL: '',
					LOG_LEVEL: 'warn'
				},
				stdout: 'pipe',
				stderr: 'pipe'
			}
		);
		const server = { url: origin, origin };
		let ready = false;
		for (let i = 0; i < 400 && !ready; i++) {
			ready = await fetch(`${origin}/readyz`).then(
				(r) => r.ok,
				() => false
			);
			if (!ready) await Bun.sleep(100);
		}
		expect(ready).toBe(true);

		const output = async () => (dev ? await new Response(dev.stderr as ReadableStream).text() : '');
		const cookie = await signUpFirstAdmin(server).catch(async (error: Error) => {
			dev?.kill('SIGTERM');
			throw new Error(`${error.message}\n${await output()}`);
		});
		const roomId = await createRoom(server, cookie);
		const ticket = await mintTicket(server, cookie, roomId);
		const socket = openSocket(server, ticket.path);
		await opened(socket);
		socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
		expect(await nextMessage(socket, (m) => m.type === 'joined')).toMatchObject({ room: roomId });
		const ack = nextMessage(socket, (m) => m.type === 'ack');
		socket.send(
			JSON.stringify({
				type: 'command',
				id: 'dev-1',
				name: 'chat.send',
				payload: { text: 'in dev' }
			})
		);
		expect(await ack).toMatchObject({ id: 'dev-1', seq: 1 });
		socket.close();

		// A foreign origin is refused here too.
		const evil = openSocket(server, ticket.path, { origin: 'https://evil.example' });
		await expect(opened(evil)).rejects.toThrow();

		const hmr = new WebSocket(`ws://127.0.0.1:${port}/`, ['vite-hmr']);
		expect(await nextMessage(hmr, (m) => m.type === 'connected', 20_000)).toMatchObject({
			type: 'connected'
		});
		hmr.close();
	});
});
