import { beforeEach, describe, expect, test } from 'bun:test';
import {
	CloseCode,
	PROTOCOL_VERSION,
	type ClientMessage,
	type RoomEvent,
	type ServerMessage,
	type TelemetrySample
} from '../../src/lib/protocol';
import {
	CommandError,
	RoomClient,
	RoomUnavailableError,
	computeBackoffDelay,
	type RoomClientOptions,
	type RoomStatus,
	type Timers,
	type WebSocketConstructor,
	type WebSocketLike
} from '../../src/lib/client/room-client';

// --- a fake clock, a fake socket and an in-memory room server ---------------------------------

class FakeClock {
	now = 0;
	#timers = new Map<number, { at: number; callback: () => void }>();
	#nextId = 1;
	readonly timers: Timers = {
		setTimeout: (callback, ms) => {
			const id = this.#nextId++;
			this.#timers.set(id, { at: this.now + ms, callback });
			return id;
		},
		clearTimeout: (handle) => void this.#timers.delete(handle as number)
	};

	/** Moves time forward, firing due timers in order (including ones they schedule). */
	advance(ms: number): void {
		const end = this.now + ms;
		for (;;) {
			const due = [...this.#timers]
				.filter(([, t]) => t.at <= end)
				.sort((a, b) => a[1].at - b[1].at);
			const first = due[0];
			if (!first) break;
			this.#timers.delete(first[0]);
			this.now = Math.max(this.now, first[1].at);
			first[1].callback();
		}
		this.now = end;
	}
}

type Frame = { kind: 'open' } | { kind: 'message'; data: string } | { kind: 'close'; code: number };
type Verdict = 'deliver' | 'drop' | 'duplicate' | 'hold';

class Connection {
	readonly toClient: Frame[] = [];
	readonly toServer: string[] = [];
	readonly received: ClientMessage[] = [];
	joined = false;
	closed = false;
	/** When the client learned this connection closed: reconnect delays count from here. */
	closeSeenAt: number | undefined;
	constructor(
		readonly socket: FakeSocket,
		readonly actor: string,
		readonly url: string,
		readonly openedAt: number
	) {}
}

class FakeSocket implements WebSocketLike {
	readyState = 0;
	onopen: WebSocketLike['onopen'] = null;
	onmessage: WebSocketLike['onmessage'] = null;
	onclose: WebSocketLike['onclose'] = null;
	onerror: WebSocketLike['onerror'] = null;
	connection!: Connection;

	send(data: string): void {
		if (this.readyState === 0) throw new Error('InvalidStateError: still connecting');
		if (this.readyState !== 1) return;
		this.connection.toServer.push(data);
	}

	close(code = 1000): void {
		if (this.readyState >= 2) return;
		this.readyState = 2;
		this.connection.closed = true;
		this.connection.toClient.length = 0;
		this.connection.toClient.push({ kind: 'close', code });
	}

	deliver(frame: Frame): void {
		if (frame.kind === 'open') {
			this.readyState = 1;
			this.onopen?.(new Event('open'));
		} else if (frame.kind === 'message') {
			if (this.readyState === 1)
				this.onmessage?.(new MessageEvent('message', { data: frame.data }));
		} else {
			this.readyState = 3;
			this.connection.closeSeenAt = currentTime();
			this.onclose?.(new CloseEvent('close', { code: frame.code }));
		}
	}
}

/**
 * Behaves like the real room server: a log, replay from lastSeq on join, commands deduplicated
 * by (actor, id), acks after the commit. Frames move only when the test calls `flush()`.
 */
class FakeRoomServer {
	readonly log: RoomEvent[] = [];
	readonly connections: Connection[] = [];
	readonly telemetry = new Map<string, TelemetrySample>();
	readonly #committed = new Map<string, number>();
	/** Decides what happens to each frame the server sends. */
	intercept: (message: ServerMessage, connection: Connection) => Verdict = () => 'deliver';
	held: { connection: Connection; message: ServerMessage }[] = [];
	/** Refuses connections with this close code (before open) while set. */
	refuseWith: number | undefined;
	/** Sends a snapshot instead of replaying when a client is further behind than this. */
	resyncBeyond = Infinity;
	answerTelemetry: (samples: TelemetrySample[]) => number | undefined = () => undefined;
	rejectCommand: (name: string) => string | undefined = () => undefined;
	readonly WebSocket: WebSocketConstructor;

	constructor(readonly clock: FakeClock) {
		const accept = (socket: FakeSocket, url: string) => this.accept(socket, url);
		this.WebSocket = class extends FakeSocket {
			constructor(url: string) {
				super();
				accept(this, url);
			}
		};
	}

	get last(): Connection {
		const connection = this.connections.at(-1);
		if (!connection) throw new Error('no connection yet');
		return connection;
	}

	accept(socket: FakeSocket, url: string): void {
		const actor = new URL(url).searchParams.get('ticket') ?? 'anonymous';
		const connection = new Connection(socket, actor, url, this.clock.now);
		socket.connection = connection;
		this.connections.push(connection);
		if (this.refuseWith !== undefined) {
			connection.closed = true;
			connection.toClient.push({ kind: 'close', code: this.refuseWith });
		} else {
			connection.toClient.push({ kind: 'open' });
		}
	}

	/** Commits an event and fans it out to every joined connection, as a live `event`. */
	append(actor: string, name: string, payload: unknown, cid?: string): RoomEvent {
		const event: RoomEvent = { seq: this.log.length + 1, at: this.clock.now, actor, name, payload };
		if (cid) event.cid = cid;
		this.log.push(event);
		for (const connection of this.connections) {
			if (connection.joined && !connection.closed) this.send(connection, { type: 'event', event });
		}
		return event;
	}

	send(connection: Connection, message: ServerMessage): void {
		if (connection.closed) return;
		const verdict = this.intercept(message, connection);
		if (verdict === 'drop') return;
		if (verdict === 'hold') {
			this.held.push({ connection, message });
			return;
		}
		const frame: Frame = { kind: 'message', data: JSON.stringify(message) };
		connection.toClient.push(frame);
		if (verdict === 'duplicate') connection.toClient.push(frame);
	}

	releaseHeld(): void {
		const held = this.held;
		this.held = [];
		for (const { connection, message } of held) {
			connection.toClient.push({ kind: 'message', data: JSON.stringify(message) });
		}
	}

	/** Server-side close: frames not yet delivered are lost, as when a replica dies. */
	close(connection: Connection, code: number): void {
		connection.closed = true;
		connection.joined = false;
		connection.toClient.length = 0;
		connection.toServer.length = 0;
		connection.toClient.push({ kind: 'close', code });
	}

	/** Lets the server read what clients sent, without answering them yet. */
	receiveAll(): void {
		for (const connection of this.connections) {
			while (connection.toServer.length > 0 && !connection.closed) {
				this.handle(connection, connection.toServer.shift()!);
			}
		}
	}

	/** Moves every frame both ways until nothing is left in flight. */
	flush(): void {
		for (let rounds = 0; rounds < 1000; rounds++) {
			let moved = false;
			for (const connection of this.connections) {
				while (connection.toServer.length > 0 && !connection.closed) {
					this.handle(connection, connection.toServer.shift()!);
					moved = true;
				}
				const frame = connection.toClient.shift();
				if (frame) {
					connection.socket.deliver(frame);
					moved = true;
				}
			}
			if (!moved) return;
		}
		throw new Error('the fake network never went quiet');
	}

	handle(connection: Connection, data: string): void {
		const message = JSON.parse(data) as ClientMessage;
		connection.received.push(message);
		switch (message.type) {
			case 'join': {
				if (message.v !== PROTOCOL_VERSION) {
					this.send(connection, {
						type: 'incompatible',
						serverVersion: PROTOCOL_VERSION,
						message: 'reload'
					});
					return this.close(connection, CloseCode.Incompatible);
				}
				const head = this.log.length;
				this.send(connection, {
					type: 'joined',
					room: 'r1',
					actor: connection.actor,
					head,
					serverTime: this.clock.now
				});
				if (head - message.lastSeq > this.resyncBeyond) {
					this.send(connection, { type: 'resync', head, snapshot: this.log.slice() });
				} else {
					for (let from = message.lastSeq; from < head; from += 2) {
						this.send(connection, { type: 'events', events: this.log.slice(from, from + 2) });
					}
				}
				connection.joined = true;
				return;
			}
			case 'command': {
				const key = `${connection.actor}:${message.id}`;
				const known = this.#committed.get(key);
				if (known !== undefined)
					return this.send(connection, { type: 'ack', id: message.id, seq: known });
				const reason = this.rejectCommand(message.name);
				if (reason) {
					return this.send(connection, {
						type: 'rejected',
						id: message.id,
						reason,
						message: reason
					});
				}
				const event = this.append(connection.actor, message.name, message.payload, message.id);
				this.#committed.set(key, event.seq);
				return this.send(connection, { type: 'ack', id: message.id, seq: event.seq });
			}
			case 'fetch':
				return this.send(connection, {
					type: 'events',
					events: this.log.slice(message.from - 1, message.to)
				});
			case 'ping':
				return this.send(connection, {
					type: 'pong',
					id: message.id,
					t0: message.t0,
					t1: this.clock.now + 5000,
					t2: this.clock.now + 5000
				});
			case 'telemetry': {
				const retryAfterMs = this.answerTelemetry(message.samples);
				if (retryAfterMs !== undefined) {
					return this.send(connection, { type: 'telemetry', accepted: 0, retryAfterMs });
				}
				for (const sample of message.samples) this.telemetry.set(sample.id, sample);
				return this.send(connection, { type: 'telemetry', accepted: message.samples.length });
			}
			case 'ephemeral':
				for (const other of this.connections) {
					if (other !== connection && other.joined) {
						const { kind, data } = message;
						this.send(other, { type: 'ephemeral', from: connection.actor, kind, data });
					}
				}
		}
	}
}

// --- fixtures ---------------------------------------------------------------------------------

let clock: FakeClock;
let server: FakeRoomServer;
const currentTime = () => clock.now;

beforeEach(() => {
	clock = new FakeClock();
	server = new FakeRoomServer(clock);
});

function createClient(options: Partial<RoomClientOptions> & { actor?: string } = {}) {
	const delivered: RoomEvent[] = [];
	const statuses: RoomStatus[] = [];
	let nextId = 0;
	const { actor = 'p1', ...rest } = options;
	const client = new RoomClient({
		url: () => `ws://test/realtime/rooms/r1?ticket=${actor}`,
		WebSocket: server.WebSocket,
		timers: clock.timers,
		now: () => clock.now,
		random: () => 0.5,
		createId: () => `${actor}-c${++nextId}`,
		heartbeatMs: 0, // only the heartbeat test wants unsolicited pings
		onEvent: (event) => delivered.push(event),
		onStatus: (status) => statuses.push(status),
		...rest
	});
	return { client, delivered, statuses, seqs: () => delivered.map((e) => e.seq) };
}

function seedLog(count: number): void {
	for (let i = 0; i < count; i++) server.append('system', 'chat.sent', { text: `seed ${i}` });
}

function messagesOfType<T extends ClientMessage['type']>(connection: Connection, type: T) {
	return connection.received.filter(
		(m): m is Extract<ClientMessage, { type: T }> => m.type === type
	);
}

// --- specifications ---------------------------------------------------------------------------

describe('joining', () => {
	test('joins with its lastSeq, gets the replay, then live events', () => {
		seedLog(5);
		const { client, seqs, statuses } = createClient({ lastSeq: 2 });
		client.connect();
		server.flush();
		expect(server.last.received[0]).toEqual({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 2 });
		expect(seqs()).toEqual([3, 4, 5]);
		server.append('system', 'chat.sent', { text: 'live' });
		server.flush();
		expect(seqs()).toEqual([3, 4, 5, 6]);
		expect(client.lastSeq).toBe(6);
		expect(statuses).toEqual(['connecting', 'open']);
		expect(client.actor).toBe('p1');
	});

	test('a client too far behind starts over from a snapshot', () => {
		seedLog(10);
		server.resyncBeyond = 3;
		const resyncs: { head: number; snapshot: unknown }[] = [];
		const { client, seqs } = createClient({
			onResync: (head, snapshot) => resyncs.push({ head, snapshot })
		});
		client.connect();
		server.flush();
		expect(resyncs).toHaveLength(1);
		expect(resyncs[0]?.head).toBe(10);
		server.append('system', 'chat.sent', { text: 'after' });
		server.flush();
		expect(seqs()).toEqual([11]);
	});

	test('url() is asked again on every reconnect, so tickets can be fresh', async () => {
		let minted = 0;
		const { client } = createClient({
			url: async () => `ws://test/realtime/rooms/r1?ticket=t${++minted}`
		});
		client.connect();
		await Bun.sleep(0);
		server.flush();
		server.close(server.last, CloseCode.GoingAway);
		server.flush();
		clock.advance(10_000);
		await Bun.sleep(0);
		server.flush();
		expect(server.connections.map((c) => c.actor)).toEqual(['t1', 't2']);
		expect(client.status).toBe('open');
	});
});

describe('commands', () => {
	test('an ack resolves send with the seq; the own event arrives once', async () => {
		const { client, seqs } = createClient();
		client.connect();
		server.flush();
		const sent = client.send('chat.send', { text: 'hi' });
		expect(client.pending).toBe(1);
		server.flush();
		expect(await sent).toEqual({ seq: 1 });
		expect(client.pending).toBe(0);
		expect(seqs()).toEqual([1]);
		expect(server.log[0]?.cid).toBe('p1-c1');
	});

	test('a rejection rejects send with a typed error', async () => {
		server.rejectCommand = (name) => (name === 'room.close' ? 'forbidden' : undefined);
		const { client } = createClient();
		client.connect();
		server.flush();
		const sent = client.send('room.close', {});
		server.flush();
		const error = await sent.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(CommandError);
		expect(error).toMatchObject({ source: 'server', reason: 'forbidden', id: 'p1-c1' });
		expect(client.pending).toBe(0);
	});

	test('commands sent before the connection opens go out in order after joined', async () => {
		const { client } = createClient();
		const first = client.send('chat.send', { text: 'one' });
		const second = client.send('chat.send', { text: 'two' });
		client.connect();
		server.flush();
		expect(await Promise.all([first, second])).toEqual([{ seq: 1 }, { seq: 2 }]);
		expect(server.log.map((e) => e.payload)).toEqual([{ text: 'one' }, { text: 'two' }]);
	});

	test('unacked commands are resent in order after a reconnect and applied once', async () => {
		const { client, seqs } = createClient();
		client.connect();
		server.flush();
		// c1 commits but its ack and event are lost with the replica; c2 is sent while away.
		server.intercept = (message) =>
			message.type === 'ack' || message.type === 'event' ? 'hold' : 'deliver';
		const first = client.send('chat.send', { text: 'one' });
		server.flush();
		expect(server.log).toHaveLength(1);
		server.held = [];
		server.intercept = () => 'deliver';
		server.close(server.last, 1006);
		server.flush();
		expect(client.status).toBe('reconnecting');
		const second = client.send('chat.send', { text: 'two' });
		clock.advance(10_000);
		server.flush();

		expect(await Promise.all([first, second])).toEqual([{ seq: 1 }, { seq: 2 }]);
		expect(server.log.map((e) => e.cid)).toEqual(['p1-c1', 'p1-c2']);
		expect(messagesOfType(server.last, 'command').map((m) => m.id)).toEqual(['p1-c1', 'p1-c2']);
		expect(seqs()).toEqual([1, 2]);
		expect(client.pending).toBe(0);
	});

	test('a command whose ack is late settles from its own event, and the late ack is ignored', async () => {
		const { client } = createClient();
		client.connect();
		server.flush();
		server.intercept = (message) => (message.type === 'ack' ? 'hold' : 'deliver');
		const sent = client.send('chat.send', { text: 'hi' });
		server.flush();
		expect(await sent).toEqual({ seq: 1 });
		server.releaseHeld();
		server.flush();
		expect(client.pending).toBe(0);
	});

	test('at most maxInFlightCommands are on the wire; the rest follow in order as answers come', async () => {
		const { client } = createClient({ maxInFlightCommands: 2 });
		client.connect();
		server.flush();
		server.intercept = (message) =>
			message.type === 'ack' || message.type === 'event' ? 'hold' : 'deliver';
		const sends = [1, 2, 3, 4, 5].map((n) => client.send('chat.send', { text: `${n}` }));
		server.flush();
		expect(messagesOfType(server.last, 'command')).toHaveLength(2);
		server.intercept = () => 'deliver';
		server.releaseHeld();
		server.flush();
		expect(await Promise.all(sends)).toEqual([1, 2, 3, 4, 5].map((seq) => ({ seq })));
		expect(messagesOfType(server.last, 'command').map((m) => m.id)).toEqual(
			[1, 2, 3, 4, 5].map((n) => `p1-c${n}`)
		);
	});

	test('a command the server could only answer with an error is refused locally', async () => {
		const { client } = createClient();
		client.connect();
		server.flush();
		const failures = await Promise.all(
			[
				client.send('Not A Name', {}),
				client.send('chat.send', undefined),
				client.send('chat.send', { n: 1n })
			].map((sent) => sent.catch((e: unknown) => e))
		);
		for (const failure of failures) {
			expect(failure).toMatchObject({ source: 'client', reason: 'invalid_command' });
		}
		expect(client.pending).toBe(0);
		server.flush();
		expect(messagesOfType(server.last, 'command')).toHaveLength(0);
	});

	test('an oversized command is refused locally and never sent', async () => {
		const { client } = createClient();
		client.connect();
		server.flush();
		const error = await client
			.send('chat.send', { text: 'x'.repeat(70_000) })
			.catch((e: unknown) => e);
		expect(error).toMatchObject({ source: 'client', reason: 'frame_too_large' });
		server.flush();
		expect(messagesOfType(server.last, 'command')).toHaveLength(0);
	});
});

describe('gaps and duplicates', () => {
	test('a dropped live event is noticed at the next one and fetched', () => {
		const { client, seqs } = createClient();
		client.connect();
		server.flush();
		let dropped = false;
		server.intercept = (message) => {
			if (message.type !== 'event' || message.event.seq !== 2 || dropped) return 'deliver';
			dropped = true;
			return 'drop';
		};
		for (let i = 0; i < 4; i++) server.append('system', 'chat.sent', { text: `${i}` });
		server.flush();
		expect(messagesOfType(server.last, 'fetch')).toEqual([{ type: 'fetch', from: 2, to: 2 }]);
		expect(seqs()).toEqual([1, 2, 3, 4]);
	});

	test('duplicated frames are delivered once', () => {
		seedLog(3);
		server.intercept = (message) =>
			message.type === 'events' || message.type === 'event' ? 'duplicate' : 'deliver';
		const { client, seqs } = createClient();
		client.connect();
		server.flush();
		server.append('system', 'chat.sent', { text: 'live' });
		server.flush();
		expect(seqs()).toEqual([1, 2, 3, 4]);
	});

	test('a lost replay frame is fetched after the refetch timeout', () => {
		seedLog(4);
		server.intercept = (message) =>
			message.type === 'events' && message.events[0]?.seq === 3 ? 'drop' : 'deliver';
		const { client, seqs } = createClient({ refetchAfterMs: 2000 });
		client.connect();
		server.flush();
		expect(seqs()).toEqual([1, 2]);
		server.intercept = () => 'deliver';
		clock.advance(1999);
		server.flush();
		expect(messagesOfType(server.last, 'fetch')).toHaveLength(0);
		clock.advance(1);
		server.flush();
		expect(messagesOfType(server.last, 'fetch')).toEqual([{ type: 'fetch', from: 3, to: 4 }]);
		expect(seqs()).toEqual([1, 2, 3, 4]);
	});

	test('a gap wider than the buffer makes the client rejoin from its lastSeq', () => {
		const { client, seqs } = createClient({ maxBuffered: 2 });
		client.connect();
		server.flush();
		server.intercept = (message) =>
			message.type === 'event' && message.event.seq <= 3 ? 'drop' : 'deliver';
		for (let i = 0; i < 4; i++) server.append('system', 'chat.sent', { text: `${i}` });
		server.intercept = () => 'deliver';
		server.flush();
		clock.advance(1000);
		server.flush();
		expect(server.connections).toHaveLength(2);
		expect(server.last.received[0]).toMatchObject({ type: 'join', lastSeq: 0 });
		expect(seqs()).toEqual([1, 2, 3, 4]);
	});
});

describe('closing and reconnecting', () => {
	const finals = [
		[CloseCode.Incompatible, 'incompatible'],
		[CloseCode.Unauthorized, 'unauthorized'],
		[CloseCode.RoomNotFound, 'not_found'],
		[CloseCode.Replaced, 'replaced']
	] as const;
	for (const [code, status] of finals) {
		test(`close code ${code} is final: status ${status}, no reconnect, pending sends rejected`, async () => {
			const { client } = createClient();
			client.connect();
			server.flush();
			server.intercept = () => 'drop';
			const sent = client.send('chat.send', { text: 'lost?' });
			server.flush();
			server.close(server.last, code);
			server.flush();
			expect(client.status).toBe(status);
			expect(client.lastCloseCode).toBe(code);
			expect(await sent.catch((e: unknown) => e)).toMatchObject({ reason: 'client_closed' });
			clock.advance(60_000);
			server.flush();
			expect(server.connections).toHaveLength(1);
		});
	}

	const transient = [
		CloseCode.GoingAway,
		CloseCode.TooLarge,
		CloseCode.InternalError,
		CloseCode.SlowConsumer,
		CloseCode.JoinTimeout,
		1006
	];
	for (const code of transient) {
		test(`close code ${code} reconnects and resumes`, () => {
			seedLog(2);
			const { client, seqs, statuses } = createClient();
			client.connect();
			server.flush();
			server.close(server.last, code);
			server.flush();
			seedLog(1);
			clock.advance(10_000);
			server.flush();
			expect(statuses).toEqual(['connecting', 'open', 'reconnecting', 'open']);
			expect(server.last.received[0]).toMatchObject({ type: 'join', lastSeq: 2 });
			expect(seqs()).toEqual([1, 2, 3]);
		});
	}

	test('replaced by another tab: it waits until asked, then continues from where it was', () => {
		seedLog(2);
		const { client, seqs, statuses } = createClient();
		client.connect();
		server.flush();
		// Another tab of the same person opened: the server closes this socket with 4410.
		server.close(server.last, CloseCode.Replaced);
		server.flush();
		expect(client.status).toBe('replaced');
		seedLog(1);
		clock.advance(120_000);
		server.flush();
		// Reconnecting on its own would replace the other tab, which would then do the same.
		expect(server.connections).toHaveLength(1);
		// "Continue here": a fresh join that resumes after the events it already has.
		client.connect();
		server.flush();
		expect(statuses).toEqual(['connecting', 'open', 'replaced', 'connecting', 'open']);
		expect(server.last.received[0]).toMatchObject({ type: 'join', lastSeq: 2 });
		expect(seqs()).toEqual([1, 2, 3]);
	});

	test('url() throwing RoomUnavailableError stops without retrying', async () => {
		let calls = 0;
		const { client } = createClient({
			url: async () => {
				calls++;
				throw new RoomUnavailableError('not_found');
			}
		});
		client.connect();
		await Bun.sleep(0);
		expect(client.status).toBe('not_found');
		clock.advance(60_000);
		expect(calls).toBe(1);
	});

	test('any other url() failure is retried with backoff', async () => {
		let calls = 0;
		const { client } = createClient({
			url: () => {
				if (++calls === 1) throw new Error('ticket endpoint unreachable');
				return 'ws://test/realtime/rooms/r1?ticket=p1';
			}
		});
		client.connect();
		expect(client.status).toBe('reconnecting');
		clock.advance(10_000);
		server.flush();
		await Bun.sleep(0);
		expect(client.status).toBe('open');
	});

	test('the server saying incompatible stops the client', () => {
		const { client } = createClient();
		client.connect();
		server.flush();
		server.send(server.last, { type: 'incompatible', serverVersion: 2, message: 'reload' });
		server.flush();
		expect(client.status).toBe('incompatible');
	});

	test('close() stops for good and rejects what is unacked', async () => {
		const { client, statuses } = createClient();
		client.connect();
		server.flush();
		server.intercept = () => 'drop';
		const sent = client.send('chat.send', { text: 'bye' });
		client.close();
		expect(await sent.catch((e: unknown) => e)).toMatchObject({ reason: 'client_closed' });
		expect(await client.send('chat.send', {}).catch((e: unknown) => e)).toBeInstanceOf(
			CommandError
		);
		clock.advance(60_000);
		server.flush();
		expect(server.connections).toHaveLength(1);
		expect(statuses.at(-1)).toBe('closed');
	});

	test('a silent connection is dropped after two heartbeats and replaced', () => {
		const { client } = createClient({ heartbeatMs: 1000 });
		client.connect();
		server.flush();
		server.intercept = () => 'drop'; // half-open: nothing comes back
		clock.advance(1000);
		server.flush();
		expect(messagesOfType(server.connections[0]!, 'ping')).toHaveLength(1);
		clock.advance(1000);
		expect(client.status).toBe('reconnecting');
		server.intercept = () => 'deliver';
		clock.advance(1000);
		server.flush();
		expect(server.connections).toHaveLength(2);
		expect(client.status).toBe('open');
	});
});

describe('backoff', () => {
	test('full jitter: uniform below a ceiling that doubles up to the cap', () => {
		const options = { baseMs: 250, capMs: 10_000 };
		expect(
			[0, 1, 2, 3, 4, 5, 6, 10].map((n) => computeBackoffDelay(n, () => 0.999_999, options))
		).toEqual([249, 499, 999, 1999, 3999, 7999, 9999, 9999]);
		expect(computeBackoffDelay(3, () => 0, options)).toBe(0);
		expect(computeBackoffDelay(3, () => 0.5, options)).toBe(1000);
	});

	/** From the client seeing a close to the next socket it opened. */
	function reconnectDelays(): number[] {
		return server.connections
			.slice(1)
			.map((c, i) => c.openedAt - server.connections[i]!.closeSeenAt!);
	}

	test('delays grow while connecting fails, each drawn from the random source', () => {
		const draws = [0.9, 0.1, 0.5, 0.7, 0.3, 0.99, 0.2];
		let i = 0;
		const { client } = createClient({ random: () => draws[i++ % draws.length]! });
		server.refuseWith = 1006;
		client.connect();
		for (let n = 0; n < 7; n++) {
			server.flush();
			clock.advance(10_000);
		}
		const ceilings = [250, 500, 1000, 2000, 4000, 8000, 10_000];
		expect(reconnectDelays()).toEqual(ceilings.map((c, n) => Math.floor(draws[n]! * c)));
		expect(client.status).toBe('reconnecting');
	});

	test('a connection that stayed up resets the backoff; a short-lived one does not', () => {
		const { client } = createClient({ random: () => 0.999 });
		client.connect();
		server.flush();
		const failRightAfterJoining = () => {
			server.close(server.last, 1006);
			server.flush();
			clock.advance(10_000);
			server.flush();
		};
		// Each connection joins and dies at once: the ceiling climbs 250, 500, 1000, 2000.
		for (let n = 0; n < 4; n++) failRightAfterJoining();
		expect(reconnectDelays()).toEqual([249, 499, 999, 1998]);
		// This one stays joined for stableAfterMs: the next failure starts over at the base.
		clock.advance(10_000);
		failRightAfterJoining();
		expect(reconnectDelays().at(-1)).toBe(249);
		expect(client.status).toBe('open');
	});

	test('rate limited: waits at least half the cap before coming back', () => {
		const { client } = createClient({ random: () => 0 });
		client.connect();
		server.flush();
		server.close(server.last, CloseCode.RateLimited);
		server.flush();
		clock.advance(4999);
		expect(server.connections).toHaveLength(1);
		clock.advance(1);
		server.flush();
		expect(server.connections).toHaveLength(2);
		expect(client.status).toBe('open');
	});
});

describe('telemetry', () => {
	function sample(n: number) {
		return { id: `s${n}`, kind: 'rating', t: n, value: n };
	}

	test('refused samples are resent after retryAfterMs, then stored once', () => {
		let refusals = 1;
		server.answerTelemetry = () => (refusals-- > 0 ? 2000 : undefined);
		const { client } = createClient();
		client.connect();
		server.flush();
		expect(client.sendTelemetry([sample(1), sample(2)])).toEqual({ queued: 2, dropped: 0 });
		server.flush();
		expect(server.telemetry.size).toBe(0);
		client.sendTelemetry([sample(3)]);
		clock.advance(1999);
		server.flush();
		expect(messagesOfType(server.last, 'telemetry')).toHaveLength(1);
		clock.advance(1);
		server.flush();
		const batches = messagesOfType(server.last, 'telemetry').map((m) => m.samples.map((s) => s.id));
		expect(batches).toEqual([
			['s1', 's2'],
			['s1', 's2', 's3']
		]);
		expect([...server.telemetry.keys()]).toEqual(['s1', 's2', 's3']);
		expect(client.telemetryQueued).toBe(0);
	});

	test('samples wait for the connection, and a batch lost with it is sent again', () => {
		const { client } = createClient();
		client.sendTelemetry([{ kind: 'rating', t: 1, value: 0.5 }]);
		client.connect();
		server.intercept = (message) => (message.type === 'telemetry' ? 'drop' : 'deliver');
		server.flush();
		expect(messagesOfType(server.last, 'telemetry')).toHaveLength(1);
		server.intercept = () => 'deliver';
		server.close(server.last, CloseCode.GoingAway);
		server.flush();
		clock.advance(10_000);
		server.flush();
		const resent = messagesOfType(server.last, 'telemetry');
		expect(resent.map((m) => m.samples.map((s) => s.id))).toEqual([['p1-c1']]);
		expect(server.telemetry.size).toBe(1);
		expect(client.telemetryQueued).toBe(0);
	});

	test('the queue is bounded: samples beyond it are refused and counted', () => {
		const { client } = createClient({ maxTelemetryQueue: 3 });
		expect(client.sendTelemetry([1, 2, 3, 4, 5].map(sample))).toEqual({ queued: 3, dropped: 2 });
		expect(client.telemetryQueued).toBe(3);
	});
});

describe('ephemeral messages and clock', () => {
	test('ephemeral messages and presence reach the callbacks; nothing is queued while away', () => {
		const seen: unknown[] = [];
		const a = createClient({ actor: 'a' });
		const b = createClient({ actor: 'b', onEphemeral: (message) => seen.push(message) });
		expect(a.client.sendEphemeral('typing', { on: true })).toBe(false);
		a.client.connect();
		b.client.connect();
		server.flush();
		expect(a.client.sendEphemeral('typing', { on: true })).toBe(true);
		server.flush();
		expect(seen).toEqual([{ from: 'a', kind: 'typing', data: { on: true } }]);

		const present: string[][] = [];
		const c = createClient({ actor: 'c', onPresence: (actors) => present.push(actors) });
		c.client.connect();
		server.flush();
		server.send(server.last, { type: 'presence', actors: ['a', 'b', 'c'] });
		server.flush();
		expect(present).toEqual([['a', 'b', 'c']]);
	});

	test('ping measures round trip and offset from four timestamps', async () => {
		const { client } = createClient();
		expect(await client.ping()).toEqual({ ok: false, reason: 'not_open' });
		client.connect();
		server.flush();
		// The server's clock runs 5 s ahead; each way takes 20 ms.
		const result = client.ping();
		clock.advance(20);
		server.receiveAll();
		clock.advance(20);
		server.flush();
		expect(await result).toEqual({
			ok: true,
			t0: 0,
			t1: 5020,
			t2: 5020,
			t3: 40,
			roundTripMs: 40,
			offsetMs: 5000
		});
	});
});
