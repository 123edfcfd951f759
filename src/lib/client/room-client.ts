/**
 * A reconnecting, resuming connection to one room. Framework-free so it runs in the browser
 * and in Bun (tests, bots); `room-connection.svelte.ts` wraps it in runes for the UI.
 *
 * Guarantees to its caller: room events are delivered exactly once, in seq order, across
 * reconnects (or restart from a snapshot via `onResync`); every `send` is applied at most once
 * and retried until the server acks or rejects it. docs/PROTOCOL.md describes the exchanges.
 */
import {
	CloseCode,
	MAX_FRAME_BYTES,
	PROTOCOL_VERSION,
	parseClientMessage,
	type ClientMessage,
	type ErrorCode,
	type RoomEvent,
	type ServerMessage,
	type TelemetrySample
} from '../protocol';
import { EventLedger, type LedgerRequest } from '../protocol/ledger';

/**
 * `connecting`: the first attempt after connect(). `open`: joined, live. `reconnecting`: lost,
 * waiting or trying again. `closed`: before connect() or after close(). The last three follow
 * a final close code (4400, 4401, 4404) or a RoomUnavailableError: only connect() restarts.
 */
export type RoomStatus =
	'connecting' | 'open' | 'reconnecting' | 'closed' | 'incompatible' | 'unauthorized' | 'not_found';

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

export type Timers = {
	setTimeout(callback: () => void, ms: number): unknown;
	clearTimeout(handle: unknown): void;
};

export type JoinedInfo = { room: string; actor: string; head: number; serverTime: number };

/** One NTP-style clock sample; `offsetMs` is server clock minus client clock. */
export type PingResult =
	| {
			ok: true;
			t0: number;
			t1: number;
			t2: number;
			t3: number;
			roundTripMs: number;
			offsetMs: number;
	  }
	| { ok: false; reason: 'not_open' | 'disconnected' | 'timeout' };

/** A sample as the caller gives it; the client fills in a missing id. */
export type TelemetryInput = Omit<TelemetrySample, 'id'> & { id?: string };

/** Why a `send` failed: `source: 'server'` carries the server's stable `reason`. */
export class CommandError extends Error {
	constructor(
		/** The command's client-generated id. */
		readonly id: string,
		readonly source: 'server' | 'client',
		/**
		 * The server's reason (e.g. `forbidden`), or the client's own: `client_closed`,
		 * `frame_too_large`, `invalid_command`.
		 */
		readonly reason: string,
		message: string
	) {
		super(message);
		this.name = 'CommandError';
	}
}

/** Thrown by `url()` when no connection attempt can succeed: the client stops with `status`. */
export class RoomUnavailableError extends Error {
	constructor(
		readonly status: 'unauthorized' | 'not_found',
		message = `The room is not available (${status}).`
	) {
		super(message);
		this.name = 'RoomUnavailableError';
	}
}

export type BackoffOptions = {
	baseMs: number;
	capMs: number;
	/** A connection that stayed joined this long resets the backoff to its base. */
	stableAfterMs: number;
};

// Fast first retry (a replica restart takes well under a second to fail over), a cap that
// keeps a waiting participant from staring at a dead room for long, and a reset only after a
// connection proved itself, so a server that accepts then drops does not get hammered.
export const DEFAULT_BACKOFF: BackoffOptions = {
	baseMs: 250,
	capMs: 10_000,
	stableAfterMs: 10_000
};

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

const encoder = new TextEncoder();

/** UTF-8 size of a frame, which is what the server's limit counts. */
function measureBytes(text: string): number {
	return encoder.encode(text).length;
}

// A half-open socket (laptop lid, Wi-Fi handover) fires no close event for minutes; silence for
// two heartbeats is treated as a dead connection.
const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_PING_TIMEOUT_MS = 5_000;
// About ten minutes of a 10 Hz rating slider: enough to ride out a long outage, bounded.
const DEFAULT_MAX_TELEMETRY_QUEUE = 6_000;
// The protocol's per-message limit.
const MAX_TELEMETRY_BATCH = 500;
const TELEMETRY_ENVELOPE_BYTES = measureBytes(JSON.stringify({ type: 'telemetry', samples: [] }));
// The server closes a socket that sends more than ~200 messages in a burst (RateLimited): a
// resend of a long queue after an outage must stay well below that, or it would loop forever.
const DEFAULT_MAX_IN_FLIGHT_COMMANDS = 32;
const WS_OPEN = 1;
// Close codes after which reconnecting cannot help; everything else resumes.
const FINAL_STATUS: Partial<Record<number, RoomStatus>> = {
	[CloseCode.Incompatible]: 'incompatible',
	[CloseCode.Unauthorized]: 'unauthorized',
	[CloseCode.RoomNotFound]: 'not_found'
};

/**
 * Full jitter: uniform in [0, min(cap, base·2^attempt)). Spreads a crowd of clients that lost
 * the same replica at the same instant, instead of reconnecting them in waves.
 */
export function computeBackoffDelay(
	attempt: number,
	random: () => number,
	options: Pick<BackoffOptions, 'baseMs' | 'capMs'>
): number {
	const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
	return Math.floor(random() * ceiling);
}

/** `ws(s)://host/realtime/rooms/<roomId>[?ticket=…]` from a page origin such as `location.origin`. */
export function buildRoomSocketUrl(origin: string, roomId: string, ticket?: string): string {
	const url = new URL(`/realtime/rooms/${encodeURIComponent(roomId)}`, origin);
	url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
	if (ticket) url.searchParams.set('ticket', ticket);
	return url.toString();
}

type QueuedSample = { sample: TelemetrySample; bytes: number };
type TimerName = 'reconnect' | 'stable' | 'heartbeat' | 'poll' | 'telemetry';

type PendingCommand = {
	frame: string;
	/** The connection attempt it was last transmitted on; resent on any later one. */
	sentOn?: number;
	resolve: (result: { seq: number }) => void;
	reject: (error: CommandError) => void;
};
type PendingPing = { t0: number; timer: unknown; resolve: (result: PingResult) => void };

/** A room connection that reconnects, resumes from `lastSeq` and retries commands until acked. */
export class RoomClient {
	readonly #options: RoomClientOptions;
	readonly #timers: Timers;
	readonly #now: () => number;
	readonly #random: () => number;
	readonly #createId: () => string;
	readonly #backoff: BackoffOptions;
	readonly #heartbeatMs: number;
	readonly #ledger: EventLedger;
	/** Samples in send order; the first #telemetryInFlight of them are on the wire. */
	readonly #telemetry: QueuedSample[] = [];
	readonly #maxTelemetryQueue: number;
	readonly #maxInFlightCommands: number;
	#telemetryInFlight = 0;
	/** Set by the server's `retryAfterMs`: no telemetry before this time (our clock). */
	#telemetryNotBefore = 0;
	/** Unacked commands in send order (Map keeps insertion order): resent in that order. */
	readonly #commands = new Map<string, PendingCommand>();
	readonly #pings = new Map<number, PendingPing>();

	/** idle: before connect(), sends queue up; stopped: after close() or a final close code. */
	#lifecycle: 'idle' | 'active' | 'stopped' = 'idle';
	#status: RoomStatus = 'closed';
	#socket: WebSocketLike | null = null;
	#joined: JoinedInfo | null = null;
	/** Bumped per connection attempt, so a late `url()` answer cannot open a stale socket. */
	#generation = 0;
	#attempt = 0;
	#lastCloseCode: number | undefined;
	#lastReceivedAt = 0;
	#nextPingId = 0;
	readonly #pendingTimers = new Map<TimerName, unknown>();

	constructor(options: RoomClientOptions) {
		this.#options = options;
		this.#timers = options.timers ?? {
			setTimeout: (callback, ms) => setTimeout(callback, ms),
			clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)
		};
		this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
		this.#random = options.random ?? Math.random;
		this.#createId = options.createId ?? (() => crypto.randomUUID());
		this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
		this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
		this.#ledger = new EventLedger({
			lastSeq: options.lastSeq,
			maxBuffered: options.maxBuffered,
			refetchAfterMs: options.refetchAfterMs,
			onEvent: (event) => this.#deliver(event),
			onResync: (head, snapshot) => notify(options.onResync, head, snapshot)
		});
		this.#maxTelemetryQueue = options.maxTelemetryQueue ?? DEFAULT_MAX_TELEMETRY_QUEUE;
		this.#maxInFlightCommands = options.maxInFlightCommands ?? DEFAULT_MAX_IN_FLIGHT_COMMANDS;
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
		this.#attempt = 0;
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
		const frame = encoded.frame;
		return new Promise((resolve, reject) => {
			this.#commands.set(id, { frame, resolve, reject });
			// Before `joined` the command waits; the join handler sends the queue in order.
			this.#pumpCommands();
		});
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
		let queued = 0;
		for (const input of samples) {
			if (this.#telemetry.length >= this.#maxTelemetryQueue) break;
			const sample: TelemetrySample = { ...input, id: input.id ?? this.#createId() };
			const encoded = encodeClientMessage({ type: 'telemetry', samples: [sample] });
			if (!encoded.ok) continue;
			this.#telemetry.push({
				sample,
				bytes: measureBytes(encoded.frame) - TELEMETRY_ENVELOPE_BYTES
			});
			queued++;
		}
		this.#flushTelemetry();
		return { queued, dropped: samples.length - queued };
	}

	/** One clock sample (NTP-style four timestamps). Never rejects. */
	ping(timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<PingResult> {
		if (!this.#joined) return Promise.resolve({ ok: false, reason: 'not_open' });
		const id = ++this.#nextPingId;
		const t0 = this.#now();
		return new Promise((resolve) => {
			const timer = this.#timers.setTimeout(() => {
				this.#pings.delete(id);
				resolve({ ok: false, reason: 'timeout' });
			}, timeoutMs);
			this.#pings.set(id, { t0, timer, resolve });
			this.#transmit(JSON.stringify({ type: 'ping', id, t0 } satisfies ClientMessage));
		});
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
		this.#lastReceivedAt = this.#now();
		this.#scheduleHeartbeat();
	}

	#handleOpen(): void {
		this.#lastReceivedAt = this.#now();
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
		this.#clearTimer('stable');
		this.#clearTimer('heartbeat');
		this.#clearTimer('poll');
		this.#ledger.forgetRequests();
		// Unanswered means unknown: the batch is resent; sample ids make that harmless.
		this.#telemetryInFlight = 0;
		this.#clearTimer('telemetry');
		for (const [id, ping] of this.#pings) {
			this.#timers.clearTimeout(ping.timer);
			this.#pings.delete(id);
			ping.resolve({ ok: false, reason: 'disconnected' });
		}
	}

	#scheduleReconnect(code?: number): void {
		if (this.#lifecycle !== 'active') return;
		this.#setStatus('reconnecting');
		const delay =
			code === CloseCode.RateLimited
				? // Told to slow down: wait at least half the cap, jittered so limited clients spread.
					this.#backoff.capMs / 2 + computeBackoffDelay(30, this.#random, this.#backoff) / 2
				: computeBackoffDelay(this.#attempt, this.#random, this.#backoff);
		this.#attempt++;
		this.#startTimer('reconnect', delay, () => this.#dial());
	}

	#stop(status: RoomStatus): void {
		if (this.#lifecycle === 'stopped') return;
		this.#lifecycle = 'stopped';
		this.#generation++;
		this.#clearTimer('reconnect');
		this.#dropSocket('client closed');
		const error = `The room connection ended (${status}); the command's outcome is unknown.`;
		for (const [id, command] of this.#commands) {
			command.reject(new CommandError(id, 'client', 'client_closed', error));
		}
		this.#commands.clear();
		this.#setStatus(status);
	}

	#scheduleHeartbeat(): void {
		if (this.#heartbeatMs <= 0) return;
		this.#startTimer('heartbeat', this.#heartbeatMs, () => {
			const silence = this.#now() - this.#lastReceivedAt;
			if (silence >= 2 * this.#heartbeatMs) {
				this.#dropSocket('heartbeat timeout');
				this.#scheduleReconnect();
				return;
			}
			if (silence >= this.#heartbeatMs) void this.ping();
			this.#scheduleHeartbeat();
		});
	}

	// --- incoming frames ----------------------------------------------------------------------

	#handleFrame(data: unknown): void {
		this.#lastReceivedAt = this.#now();
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
			case 'telemetry':
				return this.#handleTelemetryAnswer(message.retryAfterMs);
			case 'pong':
				return this.#handlePong(message);
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
		this.#clearTimer('reconnect');
		this.#startTimer('stable', this.#backoff.stableAfterMs, () => (this.#attempt = 0));
		// The replay of lastSeq+1..head is on its way; fetch only what it fails to bring.
		this.#ledger.expect(message.head, this.#now());
		this.#schedulePoll();
		this.#setStatus('open');
		notify(this.#options.onJoined, { ...this.#joined });
		// A command whose ack was lost is applied once and acked again with the same seq.
		this.#pumpCommands();
		this.#flushTelemetry();
	}

	#handlePong(message: Extract<ServerMessage, { type: 'pong' }>): void {
		const ping = this.#pings.get(message.id);
		if (!ping) return;
		this.#pings.delete(message.id);
		this.#timers.clearTimeout(ping.timer);
		const t3 = this.#now();
		const { t1, t2 } = message;
		ping.resolve({
			ok: true,
			t0: ping.t0,
			t1,
			t2,
			t3,
			roundTripMs: t3 - ping.t0 - (t2 - t1),
			offsetMs: (t1 - ping.t0 + (t2 - t3)) / 2
		});
	}

	/** Sends the next batch: one in flight at a time, since answers carry no batch id. */
	#flushTelemetry(): void {
		if (!this.#joined || this.#telemetryInFlight > 0 || this.#telemetry.length === 0) return;
		const wait = this.#telemetryNotBefore - this.#now();
		if (wait > 0) {
			this.#startTimer('telemetry', wait, () => this.#flushTelemetry());
			return;
		}
		let bytes = TELEMETRY_ENVELOPE_BYTES;
		let count = 0;
		for (const { bytes: size } of this.#telemetry) {
			if (count === MAX_TELEMETRY_BATCH || bytes + size + 1 > MAX_FRAME_BYTES) break;
			bytes += size + 1; // the comma
			count++;
		}
		const samples = this.#telemetry.slice(0, count).map((queued) => queued.sample);
		if (this.#transmit(JSON.stringify({ type: 'telemetry', samples } satisfies ClientMessage))) {
			this.#telemetryInFlight = count;
		}
	}

	#handleTelemetryAnswer(retryAfterMs: number | undefined): void {
		if (this.#telemetryInFlight === 0) return;
		if (retryAfterMs === undefined) {
			this.#telemetry.splice(0, this.#telemetryInFlight);
		} else {
			// Not stored: keep the batch at the head of the queue and try again later.
			this.#telemetryNotBefore = this.#now() + retryAfterMs;
		}
		this.#telemetryInFlight = 0;
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
		const command = this.#commands.get(id);
		if (!command) return; // Already settled (ack after event, or a duplicate ack).
		this.#commands.delete(id);
		if (outcome instanceof CommandError) command.reject(outcome);
		else command.resolve(outcome);
		this.#pumpCommands();
	}

	/** Transmits unanswered commands in send order, at most maxInFlightCommands at a time. */
	#pumpCommands(): void {
		if (!this.#joined) return;
		let inFlight = 0;
		for (const command of this.#commands.values()) {
			if (command.sentOn !== this.#generation) {
				if (inFlight >= this.#maxInFlightCommands || !this.#transmit(command.frame)) return;
				command.sentOn = this.#generation;
			}
			inFlight++;
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
		this.#clearTimer('poll');
		const at = this.#ledger.nextPollAt();
		if (at === undefined || !this.#joined) return;
		this.#startTimer('poll', Math.max(0, at - this.#now()), () =>
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

	/** One timer per purpose: starting one replaces the previous. */
	#startTimer(name: TimerName, ms: number, callback: () => void): void {
		this.#clearTimer(name);
		this.#pendingTimers.set(
			name,
			this.#timers.setTimeout(() => {
				this.#pendingTimers.delete(name);
				callback();
			}, ms)
		);
	}

	#clearTimer(name: TimerName): void {
		if (!this.#pendingTimers.has(name)) return;
		this.#timers.clearTimeout(this.#pendingTimers.get(name));
		this.#pendingTimers.delete(name);
	}
}

/**
 * Encodes a message and checks it exactly as the server will (JSON, schema, size), so nothing
 * is queued that the server can only answer with an `error`.
 */
function encodeClientMessage(
	message: ClientMessage
):
	| { ok: true; frame: string }
	| { ok: false; reason: 'invalid_command' | 'frame_too_large'; message: string } {
	let frame: string;
	try {
		frame = JSON.stringify(message);
	} catch (error) {
		return { ok: false, reason: 'invalid_command', message: `Not JSON: ${String(error)}` };
	}
	if (measureBytes(frame) > MAX_FRAME_BYTES) {
		return { ok: false, reason: 'frame_too_large', message: `Over ${MAX_FRAME_BYTES} bytes.` };
	}
	const parsed = parseClientMessage(frame);
	return parsed.ok
		? { ok: true, frame }
		: { ok: false, reason: 'invalid_command', message: parsed.message };
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

const SERVER_TYPES = new Set<string>([
	'joined',
	'event',
	'events',
	'resync',
	'ack',
	'rejected',
	'ephemeral',
	'presence',
	'telemetry',
	'pong',
	'error',
	'incompatible'
]);

/** The server is trusted; this only guards against non-JSON and unknown message types. */
function parseServerMessage(data: unknown): ServerMessage | undefined {
	if (typeof data !== 'string') return undefined;
	try {
		const message: unknown = JSON.parse(data);
		if (typeof message !== 'object' || message === null || !('type' in message)) return undefined;
		return SERVER_TYPES.has(String(message.type)) ? (message as ServerMessage) : undefined;
	} catch {
		return undefined;
	}
}
