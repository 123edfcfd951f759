/**
 * Seeded simulations of what clock sync runs against: a network link and a client clock that is
 * offset from and drifts against the server's (the player is in player-simulation.ts). Pure
 * (virtual time, no timers), so tests and benchmarks can measure errors against the known truth.
 */
import { createSeededRandom } from '../signals/synthetic';
import type { NtpSample } from './clock';

/**
 * One direction of a link, never below zero. `uniform`: anywhere in `baseMs` ± `jitterMs`.
 * `exponential` (queueing: most packets near the floor, a tail): mean `baseMs`, standard
 * deviation `jitterMs`, floor `baseMs − jitterMs`.
 */
export type PathOptions = { baseMs: number; jitterMs: number; shape?: 'uniform' | 'exponential' };

export type LinkOptions = {
	seed: number;
	/** Client to server. */
	up: PathOptions;
	/** Server to client. */
	down: PathOptions;
	/**
	 * Now and then a packet waits in a queue: with `probability` per ping, one direction (or
	 * both) gets `minMs`–`maxMs` more.
	 */
	spikes?: { probability: number; minMs: number; maxMs: number };
	/** The server's time between receiving a ping and answering it, up to this many ms. */
	serverProcessingMs?: number;
};

/** A network link drawing one-way delays from its seeded generator. */
export class SimulatedLink {
	readonly #options: LinkOptions;
	readonly #random: () => number;

	constructor(options: LinkOptions) {
		this.#options = options;
		this.#random = createSeededRandom(options.seed);
	}

	/** Delays of one round trip, ms. */
	drawRoundTrip(): { upMs: number; downMs: number; processingMs: number } {
		const { up, down, spikes, serverProcessingMs = 0.2 } = this.#options;
		let upMs = this.#drawPath(up);
		let downMs = this.#drawPath(down);
		if (spikes && this.#random() < spikes.probability) {
			const extra = () => spikes.minMs + (spikes.maxMs - spikes.minMs) * this.#random();
			const which = this.#random();
			if (which < 0.4) upMs += extra();
			else if (which < 0.8) downMs += extra();
			else {
				upMs += extra();
				downMs += extra();
			}
		}
		return { upMs, downMs, processingMs: serverProcessingMs * this.#random() };
	}

	#drawPath(path: PathOptions): number {
		if (path.shape === 'exponential') {
			const queueing = -path.jitterMs * Math.log(1 - this.#random());
			return Math.max(0, path.baseMs - path.jitterMs + queueing);
		}
		return Math.max(0, path.baseMs + path.jitterMs * (2 * this.#random() - 1));
	}
}

export type ClientClockOptions = {
	/** Server clock minus client clock at `startServerMs`, ms. */
	offsetMs: number;
	/** How fast the client clock runs against the server's: +50 gains 50 µs a second. */
	driftPpm: number;
	/** The server time the simulation starts at (an epoch-like value tests big numbers). */
	startServerMs: number;
	/** The client reads its clock in steps of this many ms (browsers coarsen `performance.now()`). */
	resolutionMs?: number;
};

/** The truth about a client clock: where it stands for any server time, and back. */
export class SimulatedClientClock {
	readonly #options: ClientClockOptions;

	constructor(options: ClientClockOptions) {
		this.#options = options;
	}

	/** The client clock's reading (unrounded) at a server time. */
	clientAt(serverMs: number): number {
		const { offsetMs, driftPpm, startServerMs } = this.#options;
		return startServerMs - offsetMs + (serverMs - startServerMs) * (1 + driftPpm * 1e-6);
	}

	/** The server time at which the client clock reads `clientMs`. */
	serverAt(clientMs: number): number {
		const { offsetMs, driftPpm, startServerMs } = this.#options;
		return startServerMs + (clientMs - startServerMs + offsetMs) / (1 + driftPpm * 1e-6);
	}

	/** The true offset (server − client) at a client time. */
	offsetAt(clientMs: number): number {
		return this.serverAt(clientMs) - clientMs;
	}

	/** A reading as the client's coarse clock reports it. */
	read(serverMs: number): number {
		const resolution = this.#options.resolutionMs ?? 0;
		const exact = this.clientAt(serverMs);
		return resolution > 0 ? Math.floor(exact / resolution) * resolution : exact;
	}
}

/** One ping sent at a server time over a link: its timestamps, and the truth to grade it. */
export function simulatePing(
	link: SimulatedLink,
	clock: SimulatedClientClock,
	sentAtServerMs: number
): { sample: NtpSample; trueOffsetMs: number; delayMs: number } {
	const { upMs, downMs, processingMs } = link.drawRoundTrip();
	const t1 = sentAtServerMs + upMs;
	const t2 = t1 + processingMs;
	const sample = { t0: clock.read(sentAtServerMs), t1, t2, t3: clock.read(t2 + downMs) };
	return {
		sample,
		trueOffsetMs: clock.offsetAt((sample.t0 + sample.t3) / 2),
		delayMs: upMs + downMs
	};
}
