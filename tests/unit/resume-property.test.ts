/**
 * The resume guarantee as a property: whatever the network does (drops, duplicates and reorders
 * live frames, cuts connections between a commit and its ack or in the middle of a replay) and
 * whenever the server decides to resync, once things calm down every client has seen exactly the
 * server's log, in order, and every command it sent is in that log exactly once.
 */
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import {
	CloseCode,
	type ClientMessage,
	type RoomEvent,
	type ServerMessage
} from '../../src/lib/protocol';
import {
	RoomClient,
	type Timers,
	type WebSocketConstructor,
	type WebSocketLike
} from '../../src/lib/client/room-client';

const CLIENTS = 3;
/** The fake server snapshots instead of replaying when a client is further behind than this. */
const RESYNC_BEYOND = 6;
const REPLAY_CHUNK = 2;

type Action =
	| { kind: 'send'; client: number }
	| { kind: 'toClient'; client: number; fault: 'none' | 'drop' | 'duplicate' | 'swap' }
	| { kind: 'toServer'; client: number; ackFirst: boolean }
	| { kind: 'disconnect'; client: number; code: number }
	| { kind: 'resync'; client: number }
	| { kind: 'wait'; ms: number };

const clientIndex = fc.integer({ min: 0, max: CLIENTS - 1 });
const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
	{ weight: 3, arbitrary: fc.record({ kind: fc.constant('send' as const), client: clientIndex }) },
	{
		weight: 8,
		arbitrary: fc.record({
			kind: fc.constant('toClient' as const),
			client: clientIndex,
			fault: fc.constantFrom('none', 'none', 'none', 'drop', 'duplicate', 'swap')
		})
	},
	{
		weight: 5,
		arbitrary: fc.record({
			kind: fc.constant('toServer' as const),
			client: clientIndex,
			ackFirst: fc.boolean()
		})
	},
	{
		weight: 1,
		arbitrary: fc.record({
			kind: fc.constant('disconnect' as const),
			client: clientIndex,
			code: fc.constantFrom(
				CloseCode.GoingAway,
				CloseCode.RateLimited,
				CloseCode.InternalError,
				CloseCode.SlowConsumer,
				CloseCode.JoinTimeout,
				1006
			)
		})
	},
	{
		weight: 1,
		arbitrary: fc.record({ kind: fc.constant('resync' as const), client: clientIndex })
	},
	{
		weight: 1,
		arbitrary: fc.record({
			kind: fc.constant('wait' as const),
			ms: fc.integer({ min: 1, max: 4000 })
		})
	}
);

// --- the simulated world ----------------------------------------------------------------------

class Clock {
	now = 0;
	readonly #timers = new Map<number, { at: number; callback: () => void }>();
	#nextId = 1;
	readonly timers: Timers = {
		setTimeout: (callback, ms) => {
			this.#timers.set(this.#nextId, { at: this.now + ms, callback });
			return this.#nextId++;
		},
		clearTimeout: (handle) => void this.#timers.delete(handle as number)
	};

	advance(ms: number): void {
		const end = this.now + ms;
		while (this.runNext(end));
		this.now = end;
	}

	/** Fires the earliest timer due by `limit`; false when there is none. */
	runNext(limit = Infinity): boolean {
		let first: [number, { at: number; callback: () => void }] | undefined;
		for (const entry of this.#timers) if (!first || entry[1].at < first[1].at) first = entry;
		if (!first || first[1].at > limit) return false;
		this.#timers.delete(first[0]);
		this.now = Math.max(this.now, first[1].at);
		first[1].callback();
		return true;
	}
}

type Frame =
	{ kind: 'open' } | { kind: 'close'; code: number } | { kind: 'message'; message: ServerMessage };

type Connection = {
	actor: string;
	socket: SimSocket;
	toClient: Frame[];
	toServer: string[];
	joined: boolean;
	/** No more frames to the client; frames it already sent may still be read (TCP order). */
	closed: boolean;
};

class SimSocket implements WebSocketLike {
	readyState = 0;
	onopen: WebSocketLike['onopen'] = null;
	onmessage: WebSocketLike['onmessage'] = null;
	onclose: WebSocketLike['onclose'] = null;
	onerror: WebSocketLike['onerror'] = null;
	connection!: Connection;

	send(data: string): void {
		if (this.readyState === 0) throw new Error('InvalidStateError');
		if (this.readyState === 1) this.connection.toServer.push(data);
	}

	close(): void {
		this.readyState = 3;
		this.connection.closed = true;
		this.connection.joined = false;
		this.connection.toClient.length = 0;
	}

	deliver(frame: Frame): void {
		if (frame.kind === 'open') {
			this.readyState = 1;
			this.onopen?.(new Event('open'));
		} else if (frame.kind === 'close') {
			this.readyState = 3;
			this.onclose?.(new CloseEvent('close', { code: frame.code }));
		} else {
			const data = JSON.stringify(frame.message);
			this.onmessage?.(new MessageEvent('message', { data }));
		}
	}
}

type Sent = { actor: string; id: string; outcome?: { seq: number } | { error: unknown } };

class World {
	readonly clock = new Clock();
	readonly log: RoomEvent[] = [];
	readonly committed = new Map<string, number>();
	readonly connections: Connection[] = [];
	readonly clients: RoomClient[] = [];
	readonly seen: RoomEvent[][] = [];
	readonly violations: string[] = [];
	readonly sent: Sent[] = [];
	/** How often the interesting paths ran, so the property cannot pass vacuously. */
	readonly coverage = { retriedCommits: 0, snapshots: 0, fetches: 0, reconnects: 0 };
	/** The id each client generated last: the id of its latest command. */
	readonly lastIds: string[] = [];

	constructor(seed: number) {
		const register = (connection: Connection) => this.connections.push(connection);
		const WebSocket: WebSocketConstructor = class extends SimSocket {
			constructor(url: string) {
				super();
				const actor = new URL(url).searchParams.get('ticket')!;
				this.connection = {
					actor,
					socket: this,
					toClient: [{ kind: 'open' }],
					toServer: [],
					joined: false,
					closed: false
				};
				register(this.connection);
			}
		};
		let state = seed >>> 0 || 1;
		const random = () => {
			// xorshift32: deterministic, so fast-check can replay and shrink a failure.
			state ^= state << 13;
			state ^= state >>> 17;
			state ^= state << 5;
			return (state >>> 0) / 2 ** 32;
		};
		for (let i = 0; i < CLIENTS; i++) {
			const actor = `p${i}`;
			let nextId = 0;
			this.seen.push([]);
			const client = new RoomClient({
				url: () => `ws://sim/realtime/rooms/r1?ticket=${actor}`,
				WebSocket,
				timers: this.clock.timers,
				now: () => this.clock.now,
				random,
				createId: () => (this.lastIds[i] = `${actor}-${++nextId}`),
				heartbeatMs: 5000,
				refetchAfterMs: 1000,
				maxBuffered: 4,
				maxInFlightCommands: 2,
				onEvent: (event) => this.#record(i, event),
				onResync: (head, snapshot) => {
					const events = snapshot as RoomEvent[];
					if (events.length !== head)
						this.violations.push(`p${i}: snapshot of ${events.length} at head ${head}`);
					this.seen[i] = events.slice();
					this.coverage.snapshots++;
				}
			});
			this.clients.push(client);
			client.connect();
		}
	}

	#record(client: number, event: RoomEvent): void {
		const seen = this.seen[client]!;
		const expected = this.log[seen.length];
		if (event.seq !== seen.length + 1 || JSON.stringify(event) !== JSON.stringify(expected)) {
			this.violations.push(`p${client}: got seq ${event.seq} after ${seen.length}`);
		}
		seen.push(event);
	}

	/** The connection the client's current socket belongs to. */
	current(client: number): Connection | undefined {
		return this.connections.findLast((c) => c.actor === `p${client}`);
	}

	run(action: Action): void {
		switch (action.kind) {
			case 'send': {
				const client = this.clients[action.client]!;
				const entry: Sent = { actor: `p${action.client}`, id: '' };
				this.sent.push(entry);
				client.send('chat.send', { text: `m${this.sent.length}` }).then(
					(result) => (entry.outcome = result),
					(error: unknown) => (entry.outcome = { error })
				);
				entry.id = this.lastIds[action.client]!;
				return;
			}
			case 'toClient':
				return this.#deliverToClient(action.client, action.fault);
			case 'toServer': {
				const connection = this.current(action.client);
				const frame = connection?.toServer.shift();
				if (connection && frame) this.#handle(connection, frame, action.ackFirst);
				return;
			}
			case 'disconnect': {
				const connection = this.current(action.client);
				if (!connection || connection.closed) return;
				// The replica dies: whatever was queued either way is lost.
				connection.closed = true;
				connection.joined = false;
				connection.toServer.length = 0;
				connection.toClient.length = 0;
				connection.toClient.push({ kind: 'close', code: action.code });
				return;
			}
			case 'resync': {
				const connection = this.current(action.client);
				if (connection?.joined) {
					this.#send(connection, {
						type: 'resync',
						head: this.log.length,
						snapshot: this.log.slice()
					});
				}
				return;
			}
			case 'wait':
				return this.clock.advance(action.ms);
		}
	}

	#deliverToClient(client: number, fault: 'none' | 'drop' | 'duplicate' | 'swap'): void {
		const connection = this.current(client);
		const frame = connection?.toClient[0];
		if (!connection || !frame) return;
		const queue = connection.toClient;
		const isEvents = (f: Frame | undefined) =>
			f?.kind === 'message' && (f.message.type === 'event' || f.message.type === 'events');
		if (fault !== 'none' && isEvents(frame)) {
			if (fault === 'drop') return void queue.shift();
			if (fault === 'duplicate') return connection.socket.deliver(frame);
			if (fault === 'swap' && isEvents(queue[1])) [queue[0], queue[1]] = [queue[1]!, frame];
		}
		connection.socket.deliver(queue.shift()!);
	}

	#send(connection: Connection, message: ServerMessage): void {
		if (!connection.closed) connection.toClient.push({ kind: 'message', message });
	}

	#append(event: Omit<RoomEvent, 'seq' | 'at'>): RoomEvent {
		const committed: RoomEvent = { ...event, seq: this.log.length + 1, at: this.clock.now };
		this.log.push(committed);
		for (const c of this.connections)
			if (c.joined) this.#send(c, { type: 'event', event: committed });
		return committed;
	}

	#handle(connection: Connection, data: string, ackFirst: boolean): void {
		const message = JSON.parse(data) as ClientMessage;
		switch (message.type) {
			case 'join': {
				const head = this.log.length;
				this.#send(connection, {
					type: 'joined',
					room: 'r1',
					actor: connection.actor,
					head,
					serverTime: this.clock.now
				});
				if (head - message.lastSeq > RESYNC_BEYOND) {
					this.#send(connection, { type: 'resync', head, snapshot: this.log.slice() });
				} else {
					for (let from = message.lastSeq; from < head; from += REPLAY_CHUNK) {
						this.#send(connection, {
							type: 'events',
							events: this.log.slice(from, from + REPLAY_CHUNK)
						});
					}
				}
				connection.joined = !connection.closed;
				return;
			}
			case 'command': {
				// Like the real server: a retried id is applied once and acked with the same seq.
				const key = `${connection.actor}:${message.id}`;
				const known = this.committed.get(key);
				if (known !== undefined) this.coverage.retriedCommits++;
				if (known !== undefined)
					return this.#send(connection, { type: 'ack', id: message.id, seq: known });
				const seq = this.log.length + 1;
				this.committed.set(key, seq);
				if (ackFirst) this.#send(connection, { type: 'ack', id: message.id, seq });
				this.#append({
					actor: connection.actor,
					name: 'chat.sent',
					payload: message.payload,
					cid: message.id
				});
				if (!ackFirst) this.#send(connection, { type: 'ack', id: message.id, seq });
				return;
			}
			case 'fetch': {
				this.coverage.fetches++;
				const events = this.log.slice(message.from - 1, message.to);
				if (events.length > 0) this.#send(connection, { type: 'events', events });
				return;
			}
			case 'ping':
				return this.#send(connection, {
					type: 'pong',
					id: message.id,
					t0: message.t0,
					t1: this.clock.now,
					t2: this.clock.now
				});
		}
	}

	/** A faultless network from here on: deliver everything, fire timers, until all agree. */
	settle(): void {
		// One more event, so a client whose last live frame was dropped notices the gap.
		this.#append({ actor: 'system', name: 'test.settled', payload: null });
		for (let round = 0; round < 2000; round++) {
			let moved = false;
			for (const connection of this.connections) {
				const frame = connection.toServer.shift();
				if (frame) {
					this.#handle(connection, frame, false);
					moved = true;
				}
			}
			for (let client = 0; client < CLIENTS; client++) {
				const connection = this.current(client);
				const frame = connection?.toClient.shift();
				if (connection && frame) {
					connection.socket.deliver(frame);
					moved = true;
				}
			}
			if (moved) continue;
			if (this.#agreed()) return;
			this.clock.runNext();
		}
		throw new Error(`did not settle: ${JSON.stringify(this.#describe())}`);
	}

	#agreed(): boolean {
		return this.clients.every(
			(client) =>
				client.status === 'open' && client.pending === 0 && client.lastSeq === this.log.length
		);
	}

	#describe() {
		return this.clients.map((c) => ({
			status: c.status,
			pending: c.pending,
			lastSeq: c.lastSeq,
			head: this.log.length
		}));
	}
}

describe('resume after faults (property)', () => {
	test('every client ends with exactly the server log; every command is in it once', async () => {
		const total = { retriedCommits: 0, snapshots: 0, fetches: 0, reconnects: 0 };
		await fc.assert(
			fc.asyncProperty(
				fc.array(actionArbitrary, { minLength: 50, maxLength: 300 }),
				fc.integer(),
				async (actions, seed) => {
					const world = new World(seed);
					for (const action of actions) world.run(action);
					world.settle();
					await Promise.resolve(); // let send() promises settle
					world.coverage.reconnects = world.connections.length - CLIENTS;
					for (const key of Object.keys(total) as (keyof typeof total)[]) {
						total[key] += world.coverage[key];
					}

					expect(world.violations).toEqual([]);
					const expected = world.log.map((e) => `${e.seq}:${e.actor}:${e.cid ?? ''}`);
					for (const seen of world.seen) {
						expect(seen.map((e) => `${e.seq}:${e.actor}:${e.cid ?? ''}`)).toEqual(expected);
					}
					const cids = world.log.flatMap((e) => (e.cid ? [`${e.actor}:${e.cid}`] : []));
					expect(new Set(cids).size).toBe(cids.length);
					expect(cids.toSorted()).toEqual(world.sent.map((s) => `${s.actor}:${s.id}`).toSorted());
					for (const sent of world.sent) {
						const outcome = sent.outcome;
						expect(outcome && 'seq' in outcome).toBe(true);
						if (outcome && 'seq' in outcome) expect(world.log[outcome.seq - 1]?.cid).toBe(sent.id);
					}
				}
			),
			{ numRuns: 200 }
		);
		// Commits whose ack was lost and that were resent, snapshots, gap fetches, reconnects:
		// if the generator stopped reaching these, the property above would prove little.
		for (const count of Object.values(total)) expect(count).toBeGreaterThan(0);
	});
});
