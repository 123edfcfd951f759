import type { RunningServer } from './server';

/** Test helpers that drive a running server through its public HTTP API. */

export const TEST_ADMIN = {
	name: 'Ada Admin',
	email: 'ada@test.invalid',
	password: 'sturdy evening lantern'
};

/** Creates the first admin through the setup form; returns the session cookie (`name=value`). */
export async function signUpFirstAdmin(server: { url: string; origin: string }): Promise<string> {
	const body = new URLSearchParams({ ...TEST_ADMIN, confirm: TEST_ADMIN.password });
	const response = await fetch(`${server.url}/setup`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			origin: server.origin,
			'content-type': 'application/x-www-form-urlencoded',
			accept: 'text/html'
		},
		body
	});
	const cookie = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
	if (response.status !== 303 || !cookie) throw new Error(`setup failed: ${response.status}`);
	return cookie.split(';')[0]!;
}

async function postJson<T>(
	server: { url: string; origin: string },
	cookie: string,
	path: string,
	body: unknown
): Promise<T> {
	const response = await fetch(`${server.url}${path}`, {
		method: 'POST',
		headers: { origin: server.origin, cookie, 'content-type': 'application/json' },
		body: JSON.stringify(body)
	});
	if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
	return (await response.json()) as T;
}

export async function createRoom(
	server: RunningServer | { url: string; origin: string },
	cookie: string
): Promise<string> {
	return (await postJson<{ room: { id: string } }>(server, cookie, '/api/rooms', {})).room.id;
}

/** A minted ticket: the identity is the server's (`actor`, `role`); `guest` resumes a sandbox guest. */
export type Ticket = { ticket: string; actor: string; role: string; path: string; guest?: string };

/**
 * Mints a single-use room ticket as the signed-in user. Sandbox rooms: a fresh guest, or the
 * guest of an earlier ticket (`{ guest }`); study rooms: the user themself.
 */
export function mintTicket(
	server: { url: string; origin: string },
	cookie: string,
	roomId: string,
	body: { role?: 'observer'; guest?: string } = {}
): Promise<Ticket> {
	return postJson<Ticket>(server, cookie, `/api/rooms/${roomId}/tickets`, body);
}

/** A WebSocket from Bun with the Origin header a browser would send. */
export function openSocket(
	server: { url: string; origin: string },
	path: string,
	headers: Record<string, string> = {}
) {
	return new WebSocket(`${server.url.replace(/^http/, 'ws')}${path}`, {
		headers: { origin: server.origin, ...headers }
	} as unknown as string[]);
}

/** Resolves with the first message matching `predicate`. */
export function nextMessage<T = Record<string, unknown>>(
	socket: WebSocket,
	predicate: (message: T) => boolean = () => true,
	timeoutMs = 5_000
): Promise<T> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('no matching message')), timeoutMs);
		const listener = (event: MessageEvent) => {
			const message = JSON.parse(String(event.data)) as T;
			if (!predicate(message)) return;
			clearTimeout(timer);
			socket.removeEventListener('message', listener);
			resolve(message);
		};
		socket.addEventListener('message', listener);
	});
}

export function opened(socket: WebSocket): Promise<void> {
	return new Promise((resolve, reject) => {
		socket.addEventListener('open', () => resolve(), { once: true });
		socket.addEventListener('error', () => reject(new Error('socket failed to open')), {
			once: true
		});
	});
}

export function closed(
	socket: WebSocket,
	timeoutMs = 5_000
): Promise<{ code: number; reason: string }> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
		socket.addEventListener(
			'close',
			(event) => {
				clearTimeout(timer);
				resolve({ code: event.code, reason: event.reason });
			},
			{ once: true }
		);
	});
}

/**
 * Sends a raw WebSocket upgrade request and returns the HTTP status line's code, so refusals
 * (403, 401, 404) can be checked exactly.
 */
export async function upgradeStatus(
	server: { url: string },
	path: string,
	headers: Record<string, string>
): Promise<number> {
	const url = new URL(server.url);
	const lines = [
		`GET ${path} HTTP/1.1`,
		`Host: ${url.host}`,
		'Connection: Upgrade',
		'Upgrade: websocket',
		'Sec-WebSocket-Version: 13',
		`Sec-WebSocket-Key: ${btoa('0123456789abcdef')}`,
		...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
		'',
		''
	];
	return new Promise((resolve, reject) => {
		let received = '';
		void Bun.connect({
			hostname: url.hostname,
			port: Number(url.port),
			socket: {
				open(socket) {
					socket.write(lines.join('\r\n'));
				},
				data(socket, data) {
					received += new TextDecoder().decode(data);
					const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
					if (match) {
						socket.end();
						resolve(Number(match[1]));
					}
				},
				error(_socket, error) {
					reject(error);
				}
			}
		});
	});
}
