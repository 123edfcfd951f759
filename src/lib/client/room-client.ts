/**
 * A reconnecting, resuming connection to one room. Framework-free so it runs in the browser
 * and in Bun (tests, bots); `room-connection.svelte.ts` wraps it in runes for the UI.
 *
 * Guarantees to its caller: room events are delivered exactly once, in seq order, across
 * reconnects (or restart from a snapshot via `onResync`); every `send` is applied at most once
 * and retried until the server acks or rejects it. docs/PROTOCOL.md describes the exchanges.
 *
 * This file is the connection state machine; it composes the pieces that outlive a socket:
 * the event ledger (`../protocol/ledger`), the reconnect backoff (`backoff.ts`), the unacked
 * commands (`command-queue.ts`), the telemetry queue (`telemetry-queue.ts`), clock pings
 * (`pings.ts`) and the liveness check (`heartbeat.ts`).
 */
import {
	CloseCode,
	PROTOCOL_VERSION,
	type ClientMessage,
	type ErrorCode,
	type RoomEvent,
	type ServerMessage
} from '../protocol';
import { EventLedger, type LedgerRequest } from '../protocol/ledger';
import { ReconnectBackoff, type BackoffOptions } from './backoff';
import { CommandQueue } from './command-queue';
import { CommandError, RoomUnavailableError } from './errors';
import { encodeClientMessage, parseServerMessage } from './frames';
import { Heartbeat } from './heartbeat';
import { DEFAULT_PING_TIMEOUT_MS, PingTracker, type PingResult } from './pings';
import { TelemetryQueue, type TelemetryInput } from './telemetry-queue';
import { TimerSlot, systemTimers, type Timers } from './timers';

// The public surface stays in this module: callers import everything from `room-client`.
export { DEFAULT_BACKOFF, computeBackoffDelay, type BackoffOptions } from './backoff';
export { CommandError, RoomUnavailableError } from './errors';
export type { PingResult } from './pings';
export type { TelemetryInput } from './telemetry-queue';
export type { Timers } from './timers';

/**
 * `connecting`: the first attempt after connect(). `open`: joined, live. `reconnecting`: lost,
 * waiting or trying again. `closed`: before connect() or after close(). The last five follow
 * a final close code (4400, 4401, 4403, 4404, 4410) or a RoomUnavailableError: only connect()
 * restarts. `forbidden`: the user's access to the room was removed (4403). `replaced`: a newer
 * socket of the same person (another tab) took over; reconnecting on our own would take it
 * back, and the two tabs would replace each other forever.
 */
export type RoomStatus =
	| 'connecting'
	| 'open'
	| 'reconnecting'
	| 'closed'
	| 'incompatible'
	| 'unauthorized'
	| 'forbidden'
	| 'not_found'
	| 'replaced';

/** The part of the standard WebSocket the client uses (so tests can pass a fake). */
export interface WebSocketLike {
	readonly readyState: number;
	send(data: string): void;
	close(code?: number, reason?: string): void;
	onopen: ((event: Event) => void) | null;
	onmessage: ((event: MessageEvent) => void) | null;
	onclose: ((event: CloseEvent) => void) | null;
	onerror: ((event: Event) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type JoinedInfo = { room: string; actor: string; head: number; serverTime: number };

export type RoomClientOptions = {
	/**
	 * Called before every (re)connect, so a fresh `?ticket=` can be minted each time. Throw a
	 * {@link RoomUnavailableError} to stop for good (the server refuses a bad ticket or an
	 * unknown room before the upgrade, which a browser only reports as close code 1006).
	 * Any other error counts as a failed attempt.
	 */
	url: () => string | Promise<string>;
	/** The last seq the caller already holds (e.g. from a cached snapshot). */
	lastSeq?: number;
	onEvent?: (event: RoomEvent) => void;
	onResync?: (head: number, snapshot: unknown) => void;
	onJoined?: (info: JoinedInfo) => void;
	onEphemeral?: (message: { from: string; kind: string; data: unknown }) => void;
	onPresence?: (actors: string[]) => void;
	/** Study rooms: the receiver's own view (§8a), as of event `seq`. */
	onView?: (message: Extract<ServerMessage, { type: 'view' }>) => void;
	onStatus?: (status: RoomStatus) => void;
	/** `error` frames: they point at a client bug, so they are reported, not acted on. */
	onServerError?: (code: ErrorCode, message: string) => void;
	WebSocket?: WebSocketConstructor;
	random?: () => number;
	/** Monotonic ms clock; pings report it as t0/t3, so it should be epoch-based. */
	now?: () => number;
	timers?: Timers;
	createId?: () => string;
	backoff?: Partial<BackoffOptions>;
	/** Silence (no frame at all) after which a ping is sent; twice this drops the socket. 0: off. */
	heartbeatMs?: number;
	/** Telemetry samples held while the server is away or busy; beyond it new samples are refused. */
	maxTelemetryQueue?: number;
	/** Commands on the wire without an answer; the rest wait their turn, in order. */
	maxInFlightCommands?: number;
	/** See EventLedger. */
	maxBuffered?: number;
	refetchAfterMs?: number;
};

const WS_OPEN = 1;
// Close codes after which reconnecting cannot help; everything else resumes.
const FINAL_STATUS: Partial<Record<number, RoomStatus>> = {
	[CloseCode.Incompatible]: 'incompatible',
	[CloseCode.Unauthorized]: 'unauthorized',
	[CloseCode.AccessRevoked]: 'forbidden',
	[CloseCode.RoomNotFound]: 'not_found',
	[CloseCode.Replaced]: 'replaced'
};

/** `ws(s)://host/realtime/rooms/<roomId>[?ticket=…]` from a page origin such as `location.origin`. */
export function buildRoomSocketUrl(origin: string, roomId: string, ticket?: string): string {
	const url = new URL(`/realtime/rooms/${encodeURIComponent(roomId)}`, origin);
	url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
	if (ticket) url.searchParams.set('ticket', ticket);
	return url.toString();
}

/** A room connection that reconnects, resumes from `lastSeq` and retries commands until acked. */
export class RoomClient {
	readonly #options: RoomClientOptions;
	readonly #now: () => number;
	readonly #createId: () => string;
	readonly #backoff: ReconnectBackoff;
	readonly #ledger: EventLedger;
	readonly #commands: CommandQueue;
	readonly #telemetry: TelemetryQueue;
	readonly #pings: PingTracker;
	readonly #heartbeat: Heartbeat;
	// One slot per purpose: restarting one replaces its previous callback.
	readonly #reconnectTimer: TimerSlot;
	readonly #stableTimer: TimerSlot;
	readonly #pollTimer: TimerSlot;
	readonly #telemetryTimer: TimerSlot;

	/** idle: before connect(), sends queue up; stopped: after close() or a final close code. */
	#lifecycle: 'idle' | 'active' | 'stopped' = 'idle';
	#status: RoomStatus = 'closed';
	#socket: WebSocketLike | null = null;
	#joined: JoinedInfo | null = null;
	/**
	 * Bumped per connection attempt, so a late `url()` answer cannot open a stale socket; it
	 * also tells the command queue which commands this connection has not carried yet.
	 */
	#generation = 0;
	#lastCloseCode: number | undefined;

	constructor(options: RoomClientOptions) {
		this.#options = options;
		const timers = options.timers ?? systemTimers;
		this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
		this.#createId = options.createId ?? (() => crypto.randomUUID());
		this.#backoff = new ReconnectBackoff(options.backoff, options.random ?? Math.random);
		this.#heartbeat = new Heartbeat({
			intervalMs: options.heartbeatMs,
			timers,
			now: this.#now,
			onSilence: () => void this.ping(),
			onDead: () => {
				this.#dropSocket('heartbeat timeout');
				this.#scheduleReconnect();
			}
		});
		this.#ledger = new EventLedger({
			lastSeq: options.lastSeq,
			maxBuffered: options.maxBuffered,
			refetchAfterMs: options.refetchAfterMs,
			onEvent: (event) => this.#deliver(event),
			onResync: (head, snapshot) => notify(options.onResync, head, snapshot)
		});
		this.#commands = new CommandQueue(options.maxInFlightCommands);
		this.#telemetry = new TelemetryQueue({
			maxQueued: options.maxTelemetryQueue,
			createId: this.#createId,
			now: this.#now
		});
		this.#pings = new PingTracker(timers, this.#now);
		this.#reconnectTimer = new TimerSlot(timers);
		this.#stableTimer = new TimerSlot(timers);
		this.#pollTimer = new TimerSlot(timers);
		this.#telemetryTimer = new TimerSlot(timers);
	}

	get status(): RoomStatus {
		return this.#status;
	}
	/** The seq of the last event delivered to `onEvent` (or of the last snapshot). */
	get lastSeq(): number {
		return this.#ledger.lastSeq;
	}
	/** Commands sent but not yet acked or rejected. */
	get pending(): number {
		return this.#commands.size;
	}
	/** The code of the last close the server or the network reported (not our own closes). */
	get lastCloseCode(): number | undefined {
		return this.#lastCloseCode;
	}
	/** Who the server says we are, once joined. */
	get actor(): string | undefined {
		return this.#joined?.actor;
	}
	/** Telemetry samples waiting to be accepted by the server. */
	get telemetryQueued(): number {
		return this.#telemetry.length;
	}

	/** Starts connecting (again, after close() or a final close code). */
	connect(): void {
		if (this.#lifecycle === 'active') return;
		this.#lifecycle = 'active';
		this.#backoff.reset();
		this.#setStatus('connecting');
		this.#dial();
	}

	/** Stops for good: closes the socket, rejects unacked commands (their outcome is unknown). */
	close(): void {
		this.#stop('closed');
	}

	/**
	 * Sends a command; resolves once it is committed as event `seq`. Retried across reconnects
	 * under the same id, so it is applied at most once. Rejects with a {@link CommandError}.
	 */
	send(name: string, payload: unknown): Promise<{ seq: number }> {
		const id = this.#createId();
		if (this.#lifecycle === 'stopped') {
			return Promise.reject(
				new CommandError(id, 'client', 'client_closed', 'The room client is closed.')
			);
		}
		// The server answers an invalid frame with an `error` that carries no command id: such a
		// command could never be settled, so it must not enter the queue.
		const encoded = encodeClientMessage({ type: 'command', id, name, payload });
		if (!encoded.ok) {
			return Promise.reject(new CommandError(id, 'client', encoded.reason, encoded.message));
		}
		const committed = this.#commands.add(id, encoded.frame);
		// Before `joined` the command waits; the join handler sends the queue in order.
		this.#pumpCommands();
		return committed;
	}

	/** Fire and forget (presence, typing). Returns false when not joined: nothing is queued. */
	sendEphemeral(kind: string, data: unknown): boolean {
		if (!this.#joined) return false;
		const encoded = encodeClientMessage({ type: 'ephemeral', kind, data });
		return encoded.ok && this.#transmit(encoded.frame);
	}

	/**
	 * Queues telemetry samples (ids are generated when missing) and sends them in batches,
	 * one batch in flight at a time, retrying after `retryAfterMs` when the server is busy.
	 * `dropped` counts samples refused because the queue is full or a sample is invalid or too
	 * large (one bad sample would otherwise make every batch it is in fail).
	 */
	sendTelemetry(samples: readonly TelemetryInput[]): { queued: number; dropped: number } {
		const result = this.#telemetry.enqueue(samples);
		this.#flushTelemetry();
		return result;
	}

	/** One clock sample (NTP-style four timestamps). Never rejects. */
	ping(timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<PingResult> {
		if (!this.#joined) return Promise.resolve({ ok: false, reason: 'not_open' });
		return this.#pings.start(timeoutMs, (frame) => this.#transmit(frame));
	}

	// --- connection lifecycle -----------------------------------------------------------------

	#dial(): void {
		const generation = ++this.#generation;
		let url: string | Promise<string>;
		try {
			url = this.#options.url();
		} catch (error) {
			this.#handleUrlFailure(error, generation);
			return;
		}
		if (typeof url === 'string') {
			this.#openSocket(url, generation);
			return;
		}
		url.then(
			(resolved) => this.#openSocket(resolved, generation),
			(error: unknown) => this.#handleUrlFailure(error, generation)
		);
	}

	#handleUrlFailure(error: unknown, generation: number): void {
		if (generation !== this.#generation || this.#lifecycle !== 'active') return;
		if (error instanceof RoomUnavailableError) this.#stop(error.status);
		else this.#scheduleReconnect();
	}

	#openSocket(url: string, generation: number): void {
		if (generation !== this.#generation || this.#lifecycle !== 'active') return;
		const Socket: WebSocketConstructor = this.#options.WebSocket ?? globalThis.WebSocket;
		let socket: WebSocketLike;
		try {
			socket = new Socket(url);
		} catch {
			this.#scheduleReconnect();
			return;
		}
		this.#socket = socket;
		// Handlers check identity: frames and closes from an abandoned socket are ignored.
		socket.onopen = () => {
			if (this.#socket === socket) this.#handleOpen();
		};
		socket.onmessage = (event) => {
			if (this.#socket === socket) this.#handleFrame(event.data);
		};
		socket.onclose = (event) => {
			if (this.#socket === socket) this.#handleClose(event.code);
		};
		socket.onerror = () => {}; // A close event always follows; that is where we act.
		this.#heartbeat.start();
	}

	#handleOpen(): void {
		this.#heartbeat.received();
		this.#transmit(
			JSON.stringify({
				type: 'join',
				v: PROTOCOL_VERSION,
				lastSeq: this.#ledger.lastSeq
			} satisfies ClientMessage)
		);
	}

	#handleClose(code: number): void {
		this.#lastCloseCode = code;
		this.#detachSocket();
		const final = FINAL_STATUS[code];
		if (final) this.#stop(final);
		else this.#scheduleReconnect(code);
	}

	/** Abandons the current socket without waiting for its close event (which may never come). */
	#dropSocket(reason: string): void {
		const socket = this.#socket;
		this.#detachSocket();
		if (socket) {
			socket.onopen = socket.onmessage = socket.onclose = null;
			try {
				socket.close(1000, reason);
			} catch {
				// Already closing: nothing left to release.
			}
		}
	}

	/** Everything tied to one connection ends here; queued commands and telemetry survive. */
	#detachSocket(): void {
		this.#socket = null;
		this.#joined = null;
		this.#stableTimer.clear();
		this.#heartbeat.stop();
		this.#pollTimer.clear();
		this.#ledger.forgetRequests();
		this.#telemetry.forgetInFlight();
		this.#telemetryTimer.clear();
		this.#pings.abandonAll();
	}

	#scheduleReconnect(code?: number): void {
		if (this.#lifecycle !== 'active') return;
		this.#setStatus('reconnecting');
		const delay = this.#backoff.nextDelay(code === CloseCode.RateLimited);
		this.#reconnectTimer.start(delay, () => this.#dial());
	}

	#stop(status: RoomStatus): void {
		if (this.#lifecycle === 'stopped') return;
		this.#lifecycle = 'stopped';
		this.#generation++;
		this.#reconnectTimer.clear();
		this.#dropSocket('client closed');
		const error = `The room connection ended (${status}); the command's outcome is unknown.`;
		this.#commands.rejectAll((id) => new CommandError(id, 'client', 'client_closed', error));
		this.#setStatus(status);
	}

	// --- incoming frames ----------------------------------------------------------------------

	#handleFrame(data: unknown): void {
		this.#heartbeat.received();
		const message = parseServerMessage(data);
		if (!message) return; // Unknown or malformed: newer servers may add message types.
		switch (message.type) {
			case 'joined':
				return this.#handleJoined(message);
			case 'event':
				return this.#act(this.#ledger.receive(message.event, this.#now()));
			case 'events':
				return this.#act(this.#ledger.receive(message.events, this.#now()));
			case 'resync':
				this.#ledger.resync(message.head, message.snapshot);
				return this.#schedulePoll();
			case 'ack':
				return this.#settleCommand(message.id, { seq: message.seq });
			case 'rejected':
				return this.#settleCommand(
					message.id,
					new CommandError(message.id, 'server', message.reason, message.message)
				);
			case 'ephemeral':
				return notify(this.#options.onEphemeral, {
					from: message.from,
					kind: message.kind,
					data: message.data
				});
			case 'presence':
				return notify(this.#options.onPresence, message.actors);
			case 'view':
				return notify(this.#options.onView, message);
			case 'telemetry':
				if (this.#telemetry.answer(message.retryAfterMs)) this.#flushTelemetry();
				return;
			case 'pong':
				return this.#pings.answer(message);
			case 'error':
				return notify(this.#options.onServerError, message.code, message.message);
			case 'incompatible':
				return this.#stop('incompatible');
		}
	}

	#handleJoined(message: Extract<ServerMessage, { type: 'joined' }>): void {
		this.#joined = {
			room: message.room,
			actor: message.actor,
			head: message.head,
			serverTime: message.serverTime
		};
		this.#reconnectTimer.clear();
		this.#stableTimer.start(this.#backoff.options.stableAfterMs, () => this.#backoff.reset());
		// The replay of lastSeq+1..head is on its way; fetch only what it fails to bring.
		this.#ledger.expect(message.head, this.#now());
		this.#schedulePoll();
		this.#setStatus('open');
		notify(this.#options.onJoined, { ...this.#joined });
		// A command whose ack was lost is applied once and acked again with the same seq.
		this.#pumpCommands();
		this.#flushTelemetry();
	}

	#deliver(event: RoomEvent): void {
		notify(this.#options.onEvent, event);
		// Our own command's event settles it even when the ack itself was lost.
		if (event.cid && event.actor === this.#joined?.actor) {
			this.#settleCommand(event.cid, { seq: event.seq });
		}
	}

	#settleCommand(id: string, outcome: { seq: number } | CommandError): void {
		// A settled command frees an in-flight slot for the next one in line.
		if (this.#commands.settle(id, outcome)) this.#pumpCommands();
	}

	/** Commands go out only once joined: the server drops anything sent before the join. */
	#pumpCommands(): void {
		if (!this.#joined) return;
		this.#commands.pump(this.#generation, (frame) => this.#transmit(frame));
	}

	#flushTelemetry(): void {
		if (!this.#joined) return;
		const step = this.#telemetry.next();
		if (step.kind === 'wait') {
			this.#telemetryTimer.start(step.ms, () => this.#flushTelemetry());
		} else if (step.kind === 'send' && this.#transmit(step.frame)) {
			this.#telemetry.markSent(step.count);
		}
	}

	#act(request: LedgerRequest): void {
		if (request.kind === 'resync') {
			// Too far behind to patch: a fresh join lets the server replay or send a snapshot.
			this.#dropSocket('resync');
			this.#scheduleReconnect();
			return;
		}
		if (request.kind === 'fetch') {
			for (const { from, to } of request.ranges) {
				this.#transmit(JSON.stringify({ type: 'fetch', from, to } satisfies ClientMessage));
			}
		}
		this.#schedulePoll();
	}

	#schedulePoll(): void {
		this.#pollTimer.clear();
		const at = this.#ledger.nextPollAt();
		if (at === undefined || !this.#joined) return;
		this.#pollTimer.start(Math.max(0, at - this.#now()), () =>
			this.#act(this.#ledger.poll(this.#now()))
		);
	}

	// --- helpers ------------------------------------------------------------------------------

	#transmit(frame: string): boolean {
		const socket = this.#socket;
		if (!socket || socket.readyState !== WS_OPEN) return false;
		try {
			socket.send(frame);
			return true;
		} catch {
			return false; // The close event that follows reconnects; queued work is resent then.
		}
	}

	#setStatus(status: RoomStatus): void {
		if (this.#status === status) return;
		this.#status = status;
		notify(this.#options.onStatus, status);
	}
}

/** Calls a user callback; an exception there must not break the connection, but must surface. */
function notify<A extends unknown[]>(
	callback: ((...args: A) => void) | undefined,
	...args: A
): void {
	if (!callback) return;
	try {
		callback(...args);
	} catch (error) {
		queueMicrotask(() => {
			throw error;
		});
	}
}
