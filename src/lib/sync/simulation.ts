/**
 * Seeded simulations of what synchronized playback runs against: a network link, a client
 * clock that is offset from and drifts against the server's, and a `<video>`-like player. Pure
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

export type PlayerOptions = {
	seed: number;
	/** Client time (ms) the player is created at, and its media position (s) then. */
	startAtMs: number;
	startMediaTime: number;
	paused?: boolean;
	/** How long a `playbackRate` write takes to reach the media clock, ms. */
	rateLatencyMs?: number;
	/** Each seek takes a uniform draw from this range, ms, reporting `seeking` meanwhile. */
	seekLatencyMs?: { min: number; max: number };
	/** After each seek the player buffers this long, ms (a seek into unbuffered media). */
	bufferAfterSeekMs?: number;
	/** Buffering episodes (client ms): the media stands still and the player reports `waiting`. */
	stalls?: { atMs: number; durationMs: number }[];
	/**
	 * A frame reported now is displayed this much later, ms (the next vsync). Its media time is
	 * where the media will be then; matching it against the target of now is off by this much.
	 */
	displayDelayMs?: number;
	/** How far the media clock runs from the client clock (audio hardware), ppm. */
	mediaClockPpm?: number;
	/** Uniform noise of ± this many ms on the reported media time (frame timing). */
	measurementNoiseMs?: number;
	durationS?: number;
};

/** What a player reports on one tick (as `requestVideoFrameCallback` would). */
export type PlayerObservation = {
	/** Media time of the frame about to be displayed, s (with measurement noise). */
	displayedMediaTime: number;
	/** Client time that frame is displayed at, ms. */
	displayedAtMs: number;
	/** The truth, without the noise: what a participant actually sees then. */
	trueDisplayedMediaTime: number;
	state: { seeking: boolean; waiting: boolean; paused: boolean; rate: number };
};

/**
 * A `<video>`-like player on virtual time: a media clock that advances at its rate (which
 * follows a write after a latency), seeks that take time, buffering episodes.
 */
export class SimulatedPlayer {
	readonly #options: PlayerOptions;
	readonly #random: () => number;
	readonly #stalls: { atMs: number; durationMs: number }[];
	#nextStall = 0;
	#atMs: number;
	#media: number;
	#paused: boolean;
	/** The rate the media clock actually runs at. */
	#rate = 1;
	/** The rate last written (what `playbackRate` reads back). */
	#commandedRate = 1;
	#pendingRates: { atMs: number; rate: number }[] = [];
	#seekingUntil: number | undefined;
	#bufferingUntil: number | undefined;
	#seeks = 0;

	constructor(options: PlayerOptions) {
		this.#options = options;
		this.#random = createSeededRandom(options.seed);
		this.#stalls = [...(options.stalls ?? [])].sort((a, b) => a.atMs - b.atMs);
		this.#atMs = options.startAtMs;
		this.#media = options.startMediaTime;
		this.#paused = options.paused ?? false;
	}

	/** Seeks performed so far. */
	get seeks(): number {
		return this.#seeks;
	}

	/** Writes `playbackRate`; the media clock follows after the rate latency. */
	setRate(rate: number, nowMs: number): void {
		this.#advanceTo(nowMs);
		this.#commandedRate = rate;
		this.#pendingRates.push({ atMs: nowMs + (this.#options.rateLatencyMs ?? 50), rate });
	}

	/** Sets `currentTime`: seeking for a while, then playing from there. */
	seek(to: number, nowMs: number): void {
		this.#advanceTo(nowMs);
		const { min, max } = this.#options.seekLatencyMs ?? { min: 50, max: 300 };
		this.#media = this.#clampMedia(to);
		this.#seekingUntil = nowMs + min + (max - min) * this.#random();
		this.#bufferingUntil = undefined;
		this.#seeks++;
	}

	play(nowMs: number): void {
		this.#advanceTo(nowMs);
		this.#paused = false;
	}

	pause(nowMs: number): void {
		this.#advanceTo(nowMs);
		this.#paused = true;
	}

	/** The player's report at a client time. */
	observe(nowMs: number): PlayerObservation {
		this.#advanceTo(nowMs);
		const delayMs = this.#options.displayDelayMs ?? 16;
		const ahead = this.#advancing() ? (this.#effectiveRate() * delayMs) / 1000 : 0;
		const truth = this.#clampMedia(this.#media + ahead);
		const noiseMs = (this.#options.measurementNoiseMs ?? 0) * (2 * this.#random() - 1);
		return {
			displayedMediaTime: truth + noiseMs / 1000,
			displayedAtMs: nowMs + delayMs,
			trueDisplayedMediaTime: truth,
			state: {
				seeking: this.#seekingUntil !== undefined,
				waiting: this.#bufferingUntil !== undefined,
				paused: this.#paused,
				rate: this.#commandedRate
			}
		};
	}

	#advancing(): boolean {
		const ended = this.#options.durationS !== undefined && this.#media >= this.#options.durationS;
		return (
			!this.#paused &&
			this.#seekingUntil === undefined &&
			this.#bufferingUntil === undefined &&
			!ended
		);
	}

	#effectiveRate(): number {
		return this.#rate * (1 + (this.#options.mediaClockPpm ?? 0) * 1e-6);
	}

	#clampMedia(media: number): number {
		const duration = this.#options.durationS ?? Infinity;
		return Math.max(0, Math.min(duration, media));
	}

	/** Runs the media clock to `toMs`, stopping at every event on the way. */
	#advanceTo(toMs: number): void {
		for (;;) {
			this.#applyDueEvents();
			if (this.#atMs >= toMs) return;
			const next = Math.min(
				toMs,
				this.#pendingRates[0]?.atMs ?? Infinity,
				this.#seekingUntil ?? Infinity,
				this.#bufferingUntil ?? Infinity,
				this.#stalls[this.#nextStall]?.atMs ?? Infinity
			);
			if (this.#advancing()) {
				this.#media = this.#clampMedia(
					this.#media + (this.#effectiveRate() * (next - this.#atMs)) / 1000
				);
			}
			this.#atMs = next;
		}
	}

	#applyDueEvents(): void {
		const now = this.#atMs;
		while (this.#pendingRates[0] && this.#pendingRates[0].atMs <= now) {
			this.#rate = (this.#pendingRates.shift() as { rate: number }).rate;
		}
		if (this.#seekingUntil !== undefined && this.#seekingUntil <= now) {
			this.#seekingUntil = undefined;
			const buffering = this.#options.bufferAfterSeekMs ?? 0;
			if (buffering > 0) this.#bufferingUntil = now + buffering;
		}
		if (this.#bufferingUntil !== undefined && this.#bufferingUntil <= now) {
			this.#bufferingUntil = undefined;
		}
		for (let stall = this.#stalls[this.#nextStall]; stall && stall.atMs <= now;) {
			this.#bufferingUntil = Math.max(this.#bufferingUntil ?? 0, stall.atMs + stall.durationMs);
			stall = this.#stalls[++this.#nextStall];
		}
	}
}
