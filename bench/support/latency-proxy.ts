/**
 * A user-space TCP proxy that delays every chunk by a base delay ± uniform jitter, per
 * direction, for `bun run bench:sync`. Byte order is kept: a chunk is never released before the
 * one ahead of it in the same direction (release = max(previous release, arrival + delay)), so
 * jitter stretches gaps but never reorders a TCP stream. Seeded, so two runs delay alike.
 */
import type { Socket, TCPSocketListener } from 'bun';

/** One direction's delay: `baseMs` ± `jitterMs`, uniform. */
export type PathDelay = { baseMs: number; jitterMs: number };

/** A network condition: client → server (`up`) and server → client (`down`). */
export type LatencyCondition = { name: string; label: string; up: PathDelay; down: PathDelay };

/**
 * The benchmark's three conditions. `asymmetric` puts 50 ± 25 ms on the way up and 10 ± 5 ms
 * on the way down: an upload-congested home link, and the case where a symmetric-path clock
 * estimate is off by half the difference (20 ms) unless the controller compensates.
 */
export const LATENCY_CONDITIONS: readonly LatencyCondition[] = [
	{
		name: 'none',
		label: 'none (pass-through)',
		up: { baseMs: 0, jitterMs: 0 },
		down: { baseMs: 0, jitterMs: 0 }
	},
	{
		name: 'jitter',
		label: '20 ± 10 ms each way',
		up: { baseMs: 20, jitterMs: 10 },
		down: { baseMs: 20, jitterMs: 10 }
	},
	{
		name: 'asymmetric',
		label: 'up 50 ± 25 ms, down 10 ± 5 ms',
		up: { baseMs: 50, jitterMs: 25 },
		down: { baseMs: 10, jitterMs: 5 }
	}
];

/** mulberry32: tiny, seedable, and plenty for drawing delays. */
export function createRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** What the proxy actually applied, per direction: the delays chunks saw (incl. timer lateness). */
export type AppliedDelays = { up: number[]; down: number[] };

type Outgoing = { release: number; arrived: number; data: Uint8Array | null };

/**
 * One direction of one connection: chunks wait in arrival order until their release time,
 * then are written to `target`; what the socket does not take at once waits for `drain`.
 */
class DelayedPipe {
	readonly #queue: Outgoing[] = [];
	readonly #unwritten: Uint8Array[] = [];
	#timer: ReturnType<typeof setTimeout> | undefined;
	#lastRelease = 0;
	#ended = false;
	#endWhenWritten = false;
	readonly #delayOf: () => number;
	readonly #record: (delayMs: number) => void;
	target: Socket<unknown> | undefined;

	/** `delayOf` draws a chunk's delay; `record` hears the delay each chunk really got. */
	constructor(delayOf: () => number, record: (delayMs: number) => void) {
		this.#delayOf = delayOf;
		this.#record = record;
	}

	/** A chunk arrived (`null`: the sender closed its side). */
	push(data: Uint8Array | null): void {
		if (this.#ended) return;
		const now = performance.now();
		const release = Math.max(this.#lastRelease, now + this.#delayOf());
		this.#lastRelease = release;
		// Bun reuses the buffer it hands to `data`: keep a copy while it waits.
		this.#queue.push({ release, arrived: now, data: data && new Uint8Array(data) });
		this.#schedule();
	}

	/** The target connected (or could take more): move on whatever is due. */
	flush(): void {
		const target = this.target;
		if (!target) return;
		while (this.#unwritten.length > 0) {
			const chunk = this.#unwritten[0] as Uint8Array;
			const written = target.write(chunk);
			if (written < chunk.length) {
				this.#unwritten[0] = chunk.subarray(Math.max(0, written));
				return;
			}
			this.#unwritten.shift();
		}
		if (this.#endWhenWritten && !this.#ended) {
			this.#ended = true;
			target.end();
		}
	}

	close(): void {
		clearTimeout(this.#timer);
		this.#ended = true;
		this.#queue.length = 0;
	}

	#schedule(): void {
		if (this.#timer !== undefined) return;
		const head = this.#queue[0];
		if (!head) return;
		const wait = head.release - performance.now();
		if (wait <= 0) {
			this.#release();
			return;
		}
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			this.#release();
		}, wait);
	}

	#release(): void {
		const now = performance.now();
		while (this.#queue.length > 0 && (this.#queue[0] as Outgoing).release <= now) {
			const item = this.#queue.shift() as Outgoing;
			this.#record(now - item.arrived);
			if (item.data) this.#unwritten.push(item.data);
			else this.#endWhenWritten = true;
		}
		this.flush();
		this.#schedule();
	}
}

type ClientData = { up: DelayedPipe; down: DelayedPipe; upstream?: Socket<unknown> };

/**
 * Listens on its own loopback port and forwards every connection to `targetPort`, delayed
 * per the current condition. The target may be set after the proxy listens (the server's
 * allowed origins must name the proxy's port before the server starts).
 */
export class LatencyProxy {
	readonly #listener: TCPSocketListener<ClientData>;
	readonly #connections = new Set<ClientData>();
	#random: () => number;
	#condition: LatencyCondition = LATENCY_CONDITIONS[0] as LatencyCondition;
	#applied: AppliedDelays = { up: [], down: [] };
	targetPort = 0;

	constructor(seed: number) {
		this.#random = createRandom(seed);
		this.#listener = Bun.listen<ClientData>({
			hostname: '127.0.0.1',
			port: 0,
			socket: {
				open: (client) => this.#accept(client),
				data: (client, data) => client.data.up.push(data),
				drain: (client) => client.data.down.flush(),
				end: (client) => client.data.up.push(null),
				close: (client) => this.#drop(client.data),
				error: (client) => this.#drop(client.data)
			}
		});
	}

	get port(): number {
		return this.#listener.port;
	}

	/** The origin a browser uses through this proxy. */
	get origin(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	/** Applies to chunks arriving from now on; resets the applied-delay record. */
	setCondition(condition: LatencyCondition, seed: number): void {
		this.#condition = condition;
		this.#random = createRandom(seed);
		this.#applied = { up: [], down: [] };
	}

	/** The delays applied since the condition was set (or the record was cleared). */
	get applied(): AppliedDelays {
		return this.#applied;
	}

	/** Starts the applied-delay record afresh (e.g. once the pages have loaded). */
	clearApplied(): void {
		this.#applied = { up: [], down: [] };
	}

	/** Closes the listener and every connection through it. */
	close(): void {
		this.#listener.stop(true);
		for (const connection of this.#connections) this.#drop(connection);
	}

	#draw(path: PathDelay): number {
		if (path.baseMs === 0 && path.jitterMs === 0) return 0;
		return Math.max(0, path.baseMs + (this.#random() * 2 - 1) * path.jitterMs);
	}

	#accept(client: Socket<ClientData>): void {
		// The condition is read per chunk, so a kept-alive connection follows a change.
		const data: ClientData = {
			up: new DelayedPipe(
				() => this.#draw(this.#condition.up),
				(delayMs) => this.#applied.up.push(delayMs)
			),
			down: new DelayedPipe(
				() => this.#draw(this.#condition.down),
				(delayMs) => this.#applied.down.push(delayMs)
			)
		};
		data.down.target = client;
		client.data = data;
		this.#connections.add(data);
		Bun.connect<ClientData>({
			hostname: '127.0.0.1',
			port: this.targetPort,
			data,
			socket: {
				open: (upstream) => {
					data.upstream = upstream;
					data.up.target = upstream;
					data.up.flush();
				},
				data: (_upstream, chunk) => data.down.push(chunk),
				drain: () => data.up.flush(),
				end: () => data.down.push(null),
				close: () => this.#drop(data),
				error: () => this.#drop(data)
			}
		}).catch(() => {
			client.end();
			this.#drop(data);
		});
	}

	#drop(data: ClientData | undefined): void {
		if (!data || !this.#connections.delete(data)) return;
		// Let what is already queued go out first: a closing side still delivers its last bytes.
		setTimeout(() => {
			data.up.close();
			data.down.close();
			data.upstream?.end();
			data.down.target?.end();
		}, 1_000);
	}
}
