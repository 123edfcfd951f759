/**
 * The experimenter's side of `bun run bench:sync`, over plain HTTP and the experimenter's own
 * room socket (`/realtime/rooms/<roomId>`, session cookie), as the dashboard would: upload the
 * clip, publish the study, watch the room log, seek the video for everyone.
 */
import { readFileSync } from 'node:fs';
import type { StudyDefinition } from '../../src/lib/study';

type Server = { url: string; origin: string };

/** One event of a room's log as the socket delivers it. */
export type RoomEvent = { seq: number; at: number; name: string; payload: Record<string, unknown> };

async function requestJson<T>(
	server: Server,
	cookie: string,
	method: string,
	path: string,
	body?: unknown
): Promise<T> {
	const response = await fetch(`${server.url}${path}`, {
		method,
		headers: { origin: server.origin, cookie, 'content-type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body)
	});
	if (!response.ok)
		throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
	return (await response.json()) as T;
}

/** Uploads a WebM clip to the media library; its media id. */
export async function uploadClip(server: Server, cookie: string, path: string): Promise<string> {
	const response = await fetch(`${server.url}/api/media`, {
		method: 'POST',
		headers: {
			origin: server.origin,
			cookie,
			'content-type': 'video/webm',
			'x-filename': 'bench-sync.webm'
		},
		body: readFileSync(path)
	});
	if (response.status !== 201) {
		throw new Error(`upload: ${response.status} ${await response.text()}`);
	}
	return ((await response.json()) as { media: { id: string } }).media.id;
}

/** Creates, saves and publishes a study; its participant link (a path). */
export async function publishStudy(
	server: Server,
	cookie: string,
	definition: StudyDefinition
): Promise<string> {
	const { id } = await requestJson<{ id: string }>(server, cookie, 'POST', '/api/studies', {
		title: definition.settings.title
	});
	const detail = await requestJson<{ revision: number; slug: string }>(
		server,
		cookie,
		'GET',
		`/api/studies/${id}`
	);
	await requestJson(server, cookie, 'PUT', `/api/studies/${id}`, {
		definition,
		revision: detail.revision
	});
	await requestJson(server, cookie, 'POST', `/api/studies/${id}/publish`);
	return `/s/${detail.slug}`;
}

type Frame = {
	type: string;
	event?: RoomEvent;
	events?: RoomEvent[];
	id?: string | number;
	t0?: number;
	t1?: number;
	t2?: number;
	reason?: string;
	message?: string;
};

/**
 * The experimenter's socket on one room: collects the log (replayed from the start, then
 * live), sends commands and settles them on their ack, and pings the server clock directly
 * (loopback, no proxy) so the bench can put its own clock next to the server's.
 */
export class ExperimenterSocket {
	readonly events: RoomEvent[] = [];
	readonly #socket: WebSocket;
	readonly #waiters = new Set<() => void>();
	readonly #pending = new Map<string | number, (frame: Frame) => void>();
	#pingId = 0;

	private constructor(socket: WebSocket) {
		this.#socket = socket;
		socket.addEventListener('message', (message) =>
			this.#receive(JSON.parse(String(message.data)))
		);
	}

	/** Opens the socket and joins from seq 0 (the whole log comes first). */
	static async open(server: Server, cookie: string, roomId: string): Promise<ExperimenterSocket> {
		const url = `${server.url.replace(/^http/, 'ws')}/realtime/rooms/${encodeURIComponent(roomId)}`;
		const socket = new WebSocket(url, {
			headers: { origin: server.origin, cookie }
		} as unknown as string[]);
		await new Promise<void>((resolve, reject) => {
			socket.addEventListener('open', () => resolve(), { once: true });
			socket.addEventListener('error', () => reject(new Error('experimenter socket failed')), {
				once: true
			});
		});
		const experimenter = new ExperimenterSocket(socket);
		socket.send(JSON.stringify({ type: 'join', v: 1, lastSeq: 0 }));
		return experimenter;
	}

	/** Resolves with the first event (already seen or to come) that matches, or fails on time. */
	async waitForEvent(match: (event: RoomEvent) => boolean, timeoutMs: number): Promise<RoomEvent> {
		const deadline = performance.now() + timeoutMs;
		for (;;) {
			const found = this.events.find(match);
			if (found) return found;
			const left = deadline - performance.now();
			if (left <= 0) throw new Error('the room did not produce the expected event in time');
			await new Promise<void>((resolve) => {
				const wake = () => {
					clearTimeout(timer);
					this.#waiters.delete(wake);
					resolve();
				};
				const timer = setTimeout(wake, left);
				this.#waiters.add(wake);
			});
		}
	}

	/** Sends a command; resolves on its ack, throws on a rejection. */
	async command(name: string, payload: unknown): Promise<void> {
		const id = crypto.randomUUID();
		const answer = this.#answerTo(id);
		this.#socket.send(JSON.stringify({ type: 'command', id, name, payload }));
		const frame = await answer;
		if (frame.type === 'rejected')
			throw new Error(`${name} rejected: ${frame.reason} ${frame.message}`);
	}

	/**
	 * Server clock minus this process's clock (`performance.timeOrigin + now()`), ms: the
	 * offset of the quickest of `count` pings on loopback, good to a few hundredths of a ms.
	 */
	async measureServerOffset(count = 40): Promise<{ offsetMs: number; minRoundTripMs: number }> {
		let best = { offsetMs: 0, minRoundTripMs: Infinity };
		for (let i = 0; i < count; i++) {
			const id = ++this.#pingId;
			const answer = this.#answerTo(id);
			const t0 = performance.timeOrigin + performance.now();
			this.#socket.send(JSON.stringify({ type: 'ping', id, t0 }));
			const pong = await answer;
			const t3 = performance.timeOrigin + performance.now();
			const t1 = pong.t1 as number;
			const t2 = pong.t2 as number;
			const roundTrip = t3 - t0 - (t2 - t1);
			if (roundTrip < best.minRoundTripMs) {
				best = { offsetMs: (t1 - t0 + (t2 - t3)) / 2, minRoundTripMs: roundTrip };
			}
			await Bun.sleep(10);
		}
		return best;
	}

	close(): void {
		this.#socket.close();
	}

	/** The answer to a frame id; fails after 10 s rather than hang the benchmark. */
	#answerTo(id: string | number): Promise<Frame> {
		return new Promise<Frame>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new Error(`no answer from the server to ${id}`));
			}, 10_000);
			this.#pending.set(id, (frame) => {
				clearTimeout(timer);
				resolve(frame);
			});
		});
	}

	#receive(frame: Frame): void {
		if (frame.type === 'event' && frame.event) this.events.push(frame.event);
		if (frame.type === 'events') this.events.push(...(frame.events ?? []));
		if (
			(frame.type === 'ack' || frame.type === 'rejected' || frame.type === 'pong') &&
			frame.id !== undefined
		) {
			this.#pending.get(frame.id)?.(frame);
			this.#pending.delete(frame.id);
		}
		for (const wake of [...this.#waiters]) wake();
	}
}
