/**
 * The load generator of `bun run bench:realtime`, in its own process so that its CPU is never
 * the server's. bench/realtime.ts starts it as
 *
 *   bun bench/realtime-load.ts '<LoadConfig as JSON>'
 *
 * and talks to it in JSON lines. stdin: `{type:'connect', participants}` (opens and joins them,
 * at most one batch at a time so the server's accept queue is never flooded), `{type:'start'}`.
 * stdout: `{type:'connected'}` after each batch, `{type:'phase'}` when the measurement window
 * opens and closes, finally `{type:'result'}`. It stops by itself: after the drain, after
 * `hardLimitSeconds`, or when stdin closes (the orchestrator died).
 *
 * Every participant, on its own random phase: a durable command every 5 s, a clock ping every
 * second, an ephemeral message every 5 s. Latencies use one clock (`performance.now()` in this
 * process): durable = command sent → the room's last member received its event (the commit is
 * on that path); ephemeral = sent → each other member received it.
 */
import { io, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION } from '../src/lib/protocol';

export type LoadMode = 'ensemble' | 'socketio';

/** One socket to open: `url` is the full ws:// URL (Ensemble, ticket included) or http:// base. */
export type LoadParticipant = { url: string; origin: string; room: string; actor: string };

export type LoadConfig = {
	mode: LoadMode;
	warmupSeconds: number;
	measureSeconds: number;
	/** After the window: no new sends, late receipts still count. */
	drainSeconds: number;
	commandEveryMs: number;
	pingEveryMs: number;
	ephemeralEveryMs: number;
	joinTimeoutMs: number;
	/** The process exits after this long whatever happens. */
	hardLimitSeconds: number;
};

export type LatencySummary = { count: number; p50: number; p95: number; p99: number; max: number };

export type LoadResult = {
	mode: LoadMode;
	participants: number;
	rooms: number;
	measureSeconds: number;
	counts: {
		connectFailed: number;
		commandsSent: number;
		acked: number;
		rejected: number;
		/** Commands of the window whose event did not reach every member before the drain ended. */
		commandsIncomplete: number;
		eventsReceived: number;
		ephemeralSent: number;
		ephemeralReceived: number;
		ephemeralMissing: number;
		pingsSent: number;
		pongs: number;
		presence: number;
		errorFrames: number;
		/** Sockets closed by the server or the network during the run, by close code. */
		closesByCode: Record<string, number>;
	};
	durableMs: LatencySummary;
	ephemeralMs: LatencySummary;
	ackMs: LatencySummary;
	pingMs: LatencySummary;
	/** How late this process's 5 ms scheduler tick ran: its own saturation shows here. */
	loopLagMs: LatencySummary;
};

type Sample = { sentAt: number };
type PendingCommand = Sample & { expected: number; received: number; acked: boolean };

/** Scheduling resolution: each participant's phase is one of these slots within a period. */
const SLOT_MS = 10;
const TICK_MS = 5;

export function summarize(values: number[]): LatencySummary {
	if (values.length === 0) return { count: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN };
	const sorted = Float64Array.from(values).sort();
	const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
	const round = (x: number) => Math.round(x * 1000) / 1000;
	return {
		count: sorted.length,
		p50: round(at(0.5)),
		p95: round(at(0.95)),
		p99: round(at(0.99)),
		max: round(sorted[sorted.length - 1]!)
	};
}

/** Collects every measurement; the clients only report what they saw and when. */
class Recorder {
	window = { start: Infinity, end: Infinity };
	readonly joinedPerRoom = new Map<string, number>();
	readonly commands = new Map<string, PendingCommand>();
	readonly durable: number[] = [];
	readonly ephemeral: number[] = [];
	readonly ack: number[] = [];
	readonly ping: number[] = [];
	readonly lag: number[] = [];
	readonly counts: LoadResult['counts'] = {
		connectFailed: 0,
		commandsSent: 0,
		acked: 0,
		rejected: 0,
		commandsIncomplete: 0,
		eventsReceived: 0,
		ephemeralSent: 0,
		ephemeralReceived: 0,
		ephemeralMissing: 0,
		pingsSent: 0,
		pongs: 0,
		presence: 0,
		errorFrames: 0,
		closesByCode: {}
	};
	#ephemeralExpected = 0;

	inWindow(t: number): boolean {
		return t >= this.window.start && t < this.window.end;
	}

	commandSent(cid: string, room: string, sentAt: number): void {
		this.counts.commandsSent++;
		const expected = this.joinedPerRoom.get(room) ?? 1;
		this.commands.set(cid, { sentAt, expected, received: 0, acked: false });
	}

	eventReceived(cid: string | undefined, now: number): void {
		this.counts.eventsReceived++;
		const pending = cid === undefined ? undefined : this.commands.get(cid);
		if (!pending) return;
		pending.received++;
		if (pending.received === pending.expected && this.inWindow(pending.sentAt)) {
			this.durable.push(now - pending.sentAt);
		}
		this.#forgetIfDone(cid!, pending);
	}

	acked(cid: string, ok: boolean, now: number): void {
		const pending = this.commands.get(cid);
		if (!ok) this.counts.rejected++;
		if (!pending) return;
		if (ok) {
			this.counts.acked++;
			if (this.inWindow(pending.sentAt)) this.ack.push(now - pending.sentAt);
		}
		pending.acked = true;
		this.#forgetIfDone(cid, pending);
	}

	#forgetIfDone(cid: string, pending: PendingCommand): void {
		if (pending.acked && pending.received >= pending.expected) this.commands.delete(cid);
	}

	ephemeralSent(room: string, sentAt: number): void {
		this.counts.ephemeralSent++;
		if (this.inWindow(sentAt)) this.#ephemeralExpected += (this.joinedPerRoom.get(room) ?? 1) - 1;
	}

	ephemeralReceived(sentAt: number, now: number): void {
		if (!this.inWindow(sentAt)) return;
		this.counts.ephemeralReceived++;
		this.ephemeral.push(now - sentAt);
	}

	pong(t0: number, now: number): void {
		this.counts.pongs++;
		if (this.inWindow(t0)) this.ping.push(now - t0);
	}

	closed(code: number): void {
		this.counts.closesByCode[code] = (this.counts.closesByCode[code] ?? 0) + 1;
	}

	finish(): void {
		for (const pending of this.commands.values()) {
			if (this.inWindow(pending.sentAt) && pending.received < pending.expected)
				this.counts.commandsIncomplete++;
		}
		this.counts.ephemeralMissing = Math.max(
			0,
			this.#ephemeralExpected - this.counts.ephemeralReceived
		);
	}
}

/** What the scheduler needs from a socket, whatever the server. */
interface BenchClient {
	readonly participant: LoadParticipant;
	readonly joined: boolean;
	/** Resolves true once joined, false on failure or timeout. */
	join(): Promise<boolean>;
	sendCommand(cid: string, text: string): void;
	sendPing(id: number, t0: number): void;
	sendEphemeral(t: number, id: string): void;
	close(): void;
}

type EnsembleFrame = {
	type: string;
	id?: string;
	event?: { cid?: string };
	events?: { cid?: string }[];
	from?: string;
	data?: { t?: number };
	t0?: number;
};

/** Ensemble's protocol (src/lib/protocol) over Bun's WebSocket with a browser's Origin. */
class EnsembleClient implements BenchClient {
	joined = false;
	#socket: WebSocket | undefined;
	#stopping = false;

	constructor(
		readonly participant: LoadParticipant,
		readonly recorder: Recorder,
		readonly timeoutMs: number
	) {}

	join(): Promise<boolean> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => resolve(false), this.timeoutMs);
			const done = (ok: boolean) => {
				clearTimeout(timer);
				resolve(ok);
			};
			const socket = new WebSocket(this.participant.url, {
				headers: { origin: this.participant.origin }
			} as unknown as string[]);
			this.#socket = socket;
			socket.onopen = () =>
				socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
			socket.onerror = () => done(false);
			socket.onclose = (event) => {
				if (this.joined) {
					const room = this.participant.room;
					this.recorder.joinedPerRoom.set(room, (this.recorder.joinedPerRoom.get(room) ?? 1) - 1);
				}
				this.joined = false;
				if (!this.#stopping) this.recorder.closed(event.code);
				done(false);
			};
			socket.onmessage = (event) => {
				const now = performance.now();
				const frame = JSON.parse(String(event.data)) as EnsembleFrame;
				if (frame.type === 'joined') {
					this.joined = true;
					const room = this.participant.room;
					this.recorder.joinedPerRoom.set(room, (this.recorder.joinedPerRoom.get(room) ?? 0) + 1);
					done(true);
				} else this.#receive(frame, now);
			};
		});
	}

	#receive(frame: EnsembleFrame, now: number): void {
		const r = this.recorder;
		switch (frame.type) {
			case 'pong':
				return r.pong(frame.t0!, now);
			case 'event':
				return r.eventReceived(frame.event?.cid, now);
			case 'events':
				for (const event of frame.events ?? []) r.eventReceived(event.cid, now);
				return;
			case 'ack':
				return r.acked(frame.id!, true, now);
			case 'rejected':
				return r.acked(frame.id!, false, now);
			case 'ephemeral':
				// Bun's server.publish also echoes the sender's own message: not a receipt.
				if (frame.from !== this.participant.actor) r.ephemeralReceived(frame.data?.t ?? NaN, now);
				return;
			case 'presence':
				r.counts.presence++;
				return;
			case 'error':
				r.counts.errorFrames++;
				return;
		}
	}

	#send(message: unknown): void {
		if (this.joined) this.#socket!.send(JSON.stringify(message));
	}

	sendCommand(cid: string, text: string): void {
		this.#send({ type: 'command', id: cid, name: 'chat.send', payload: { text } });
	}

	sendPing(id: number, t0: number): void {
		this.#send({ type: 'ping', id, t0 });
	}

	sendEphemeral(t: number, id: string): void {
		this.#send({ type: 'ephemeral', kind: 'typing', data: { t, id } });
	}

	close(): void {
		this.#stopping = true;
		this.#socket?.close(1000, 'bench done');
	}
}

/** The baseline's events (bench/socketio-server.js) through socket.io-client, WebSocket only. */
class SocketIoClient implements BenchClient {
	joined = false;
	#socket: Socket | undefined;
	#stopping = false;

	constructor(
		readonly participant: LoadParticipant,
		readonly recorder: Recorder,
		readonly timeoutMs: number
	) {}

	join(): Promise<boolean> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => resolve(false), this.timeoutMs);
			const done = (ok: boolean) => {
				clearTimeout(timer);
				resolve(ok);
			};
			const r = this.recorder;
			const socket = io(this.participant.url, {
				transports: ['websocket'],
				forceNew: true,
				reconnection: false,
				timeout: this.timeoutMs,
				extraHeaders: { origin: this.participant.origin }
			});
			this.#socket = socket;
			const room = this.participant.room;
			socket.on('connect', () => {
				socket.emit('join', { room, actor: this.participant.actor }, (answer: { ok: boolean }) => {
					if (!answer?.ok) return done(false);
					this.joined = true;
					r.joinedPerRoom.set(room, (r.joinedPerRoom.get(room) ?? 0) + 1);
					done(true);
				});
			});
			socket.on('connect_error', () => done(false));
			socket.on('disconnect', (reason) => {
				if (this.joined) r.joinedPerRoom.set(room, (r.joinedPerRoom.get(room) ?? 1) - 1);
				this.joined = false;
				if (!this.#stopping) r.closed(reason === 'io server disconnect' ? 4000 : 1006);
				done(false);
			});
			socket.on('event', (event: { cid?: string }) =>
				r.eventReceived(event.cid, performance.now())
			);
			socket.on('ephemeral', (message: { data?: { t?: number } }) =>
				r.ephemeralReceived(message.data?.t ?? NaN, performance.now())
			);
			socket.on('presence', () => r.counts.presence++);
		});
	}

	sendCommand(cid: string, text: string): void {
		if (!this.joined) return;
		this.#socket!.emit(
			'command',
			{ id: cid, name: 'chat.send', payload: { text } },
			(answer: { ok: boolean }) => this.recorder.acked(cid, answer?.ok === true, performance.now())
		);
	}

	sendPing(id: number, t0: number): void {
		if (!this.joined) return;
		this.#socket!.emit('clock', { id, t0 }, (pong: { t0: number }) =>
			this.recorder.pong(pong.t0, performance.now())
		);
	}

	sendEphemeral(t: number, id: string): void {
		if (this.joined) this.#socket!.emit('ephemeral', { kind: 'typing', data: { t, id } });
	}

	close(): void {
		this.#stopping = true;
		this.#socket?.disconnect();
	}
}

/**
 * Sends each activity on every participant's own phase: a period is cut into 10 ms slots and
 * each participant gets a random slot, so the load is spread evenly instead of in bursts.
 */
class Schedule {
	readonly #slots: number[][];
	readonly #period: number;

	constructor(periodMs: number, participants: number) {
		this.#period = Math.max(1, Math.round(periodMs / SLOT_MS));
		this.#slots = Array.from({ length: this.#period }, () => []);
		for (let i = 0; i < participants; i++) {
			this.#slots[Math.floor(Math.random() * this.#period)]!.push(i);
		}
	}

	/** Participants due in slots (from, to]; never more than one period's worth at once. */
	due(from: number, to: number, visit: (index: number) => void): void {
		for (let slot = Math.max(from + 1, to - this.#period + 1); slot <= to; slot++) {
			for (const index of this.#slots[slot % this.#period]!) visit(index);
		}
	}
}

function emit(line: object): void {
	process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function run(config: LoadConfig, clients: BenchClient[], recorder: Recorder) {
	const n = clients.length;
	const commands = new Schedule(config.commandEveryMs, n);
	const pings = new Schedule(config.pingEveryMs, n);
	const ephemerals = new Schedule(config.ephemeralEveryMs, n);
	const counters = new Uint32Array(n);
	const started = performance.now();
	const windowStart = started + config.warmupSeconds * 1000;
	const windowEnd = windowStart + config.measureSeconds * 1000;
	recorder.window = { start: windowStart, end: windowEnd };
	let pingId = 0;
	let lastSlot = -1;
	let nextTick = started;
	let phase: 'warmup' | 'measure' | 'drain' = 'warmup';

	await new Promise<void>((resolve) => {
		const tick = () => {
			const now = performance.now();
			if (phase !== 'warmup' || now >= windowStart) recorder.lag.push(Math.max(0, now - nextTick));
			nextTick = now + TICK_MS;
			if (phase === 'warmup' && now >= windowStart) {
				phase = 'measure';
				emit({ type: 'phase', phase: 'measure-start' });
			}
			if (phase === 'measure' && now >= windowEnd) {
				phase = 'drain';
				emit({ type: 'phase', phase: 'measure-end' });
			}
			if (phase === 'drain') {
				if (now >= windowEnd + config.drainSeconds * 1000) {
					clearInterval(timer);
					resolve();
				}
				return;
			}
			const slot = Math.floor((now - started) / SLOT_MS);
			pings.due(lastSlot, slot, (i) => {
				const client = clients[i]!;
				if (!client.joined) return;
				recorder.counts.pingsSent++;
				client.sendPing(++pingId, performance.now());
			});
			commands.due(lastSlot, slot, (i) => {
				const client = clients[i]!;
				if (!client.joined) return;
				const cid = `c${i}-${++counters[i]!}`;
				const sentAt = performance.now();
				recorder.commandSent(cid, client.participant.room, sentAt);
				client.sendCommand(cid, `${cid} sent at ${sentAt.toFixed(3)}`);
			});
			ephemerals.due(lastSlot, slot, (i) => {
				const client = clients[i]!;
				if (!client.joined) return;
				const sentAt = performance.now();
				recorder.ephemeralSent(client.participant.room, sentAt);
				client.sendEphemeral(sentAt, `e${i}-${slot}`);
			});
			lastSlot = slot;
		};
		const timer = setInterval(tick, TICK_MS);
	});
}

async function main(): Promise<void> {
	const config = JSON.parse(process.argv[2] ?? '') as LoadConfig;
	const hardLimit = setTimeout(() => {
		console.error(`realtime-load: hard limit of ${config.hardLimitSeconds} s reached, exiting`);
		process.exit(3);
	}, config.hardLimitSeconds * 1000);
	const recorder = new Recorder();
	const clients: BenchClient[] = [];
	const rooms = new Set<string>();
	let finished = false;

	const create = (participant: LoadParticipant): BenchClient =>
		config.mode === 'ensemble'
			? new EnsembleClient(participant, recorder, config.joinTimeoutMs)
			: new SocketIoClient(participant, recorder, config.joinTimeoutMs);

	const handle = async (line: string) => {
		const message = JSON.parse(line) as
			{ type: 'connect'; participants: LoadParticipant[] } | { type: 'start' };
		if (message.type === 'connect') {
			const batch = message.participants.map(create);
			const results = await Promise.all(batch.map((client) => client.join()));
			clients.push(...batch);
			for (const client of batch) rooms.add(client.participant.room);
			const failed = results.filter((ok) => !ok).length;
			recorder.counts.connectFailed += failed;
			emit({ type: 'connected', total: clients.length, failed });
			return;
		}
		await run(config, clients, recorder);
		recorder.finish();
		finished = true;
		for (const client of clients) client.close();
		const result: LoadResult = {
			mode: config.mode,
			participants: clients.length,
			rooms: rooms.size,
			measureSeconds: config.measureSeconds,
			counts: recorder.counts,
			durableMs: summarize(recorder.durable),
			ephemeralMs: summarize(recorder.ephemeral),
			ackMs: summarize(recorder.ack),
			pingMs: summarize(recorder.ping),
			loopLagMs: summarize(recorder.lag)
		};
		emit({ type: 'result', result });
		clearTimeout(hardLimit);
		// Give the close frames a moment to leave, then go.
		setTimeout(() => process.exit(0), 500);
	};

	// One command at a time, in order: a batch is fully joined before the next one opens.
	for await (const line of console) {
		if (line.trim()) await handle(line);
	}
	if (!finished) {
		console.error('realtime-load: stdin closed before the run finished, exiting');
		process.exit(2);
	}
}

if (import.meta.main) await main();
