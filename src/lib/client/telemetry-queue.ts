/**
 * Telemetry samples waiting for the server: bounded, sent in batches that fit one frame, one
 * batch in flight at a time, and held back after the server asks for a pause (`retryAfterMs`).
 * It only decides what to send and when; the caller owns the socket and the timer.
 */
import { MAX_FRAME_BYTES, type ClientMessage, type TelemetrySample } from '../protocol';
import { encodeClientMessage, measureBytes } from './frames';

/** A sample as the caller gives it; the client fills in a missing id. */
export type TelemetryInput = Omit<TelemetrySample, 'id'> & { id?: string };

// About ten minutes of a 10 Hz rating slider: enough to ride out a long outage, bounded.
export const DEFAULT_MAX_TELEMETRY_QUEUE = 6_000;
// The protocol's per-message limit.
const MAX_TELEMETRY_BATCH = 500;
const TELEMETRY_ENVELOPE_BYTES = measureBytes(JSON.stringify({ type: 'telemetry', samples: [] }));

/** What to do next: nothing, wait `ms` and ask again, or transmit `frame` (of `count` samples). */
export type TelemetryStep =
	{ kind: 'idle' } | { kind: 'wait'; ms: number } | { kind: 'send'; frame: string; count: number };

export type TelemetryQueueOptions = {
	/** Samples held while the server is away or busy; beyond it new samples are refused. */
	maxQueued?: number;
	createId: () => string;
	now: () => number;
};

type QueuedSample = { sample: TelemetrySample; bytes: number };

/** The telemetry queue of one room client. */
export class TelemetryQueue {
	/** Samples in send order; the first #inFlight of them are on the wire. */
	readonly #samples: QueuedSample[] = [];
	readonly #maxQueued: number;
	readonly #createId: () => string;
	readonly #now: () => number;
	#inFlight = 0;
	/** Set by the server's `retryAfterMs`: no telemetry before this time (our clock). */
	#notBefore = 0;

	constructor(options: TelemetryQueueOptions) {
		this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_TELEMETRY_QUEUE;
		this.#createId = options.createId;
		this.#now = options.now;
	}

	/** Samples not yet accepted by the server, including the batch in flight. */
	get length(): number {
		return this.#samples.length;
	}

	/**
	 * Queues samples, giving each a missing id. `dropped` counts samples refused because the
	 * queue is full or a sample is invalid or too large: one bad sample would otherwise make
	 * every batch it is in fail, and the queue would never drain.
	 */
	enqueue(inputs: readonly TelemetryInput[]): { queued: number; dropped: number } {
		let queued = 0;
		for (const input of inputs) {
			if (this.#samples.length >= this.#maxQueued) break;
			const sample: TelemetrySample = { ...input, id: input.id ?? this.#createId() };
			const encoded = encodeClientMessage({ type: 'telemetry', samples: [sample] });
			if (!encoded.ok) continue;
			// Its share of a batch frame, so batches can be sized without encoding them twice.
			this.#samples.push({
				sample,
				bytes: measureBytes(encoded.frame) - TELEMETRY_ENVELOPE_BYTES
			});
			queued++;
		}
		return { queued, dropped: inputs.length - queued };
	}

	/**
	 * The next batch: as many samples from the head as fit the protocol's count and frame size.
	 * Only one batch is in flight at a time, since the server's answers carry no batch id.
	 * Call {@link markSent} once the frame is actually on the wire.
	 */
	next(): TelemetryStep {
		if (this.#inFlight > 0 || this.#samples.length === 0) return { kind: 'idle' };
		const wait = this.#notBefore - this.#now();
		if (wait > 0) return { kind: 'wait', ms: wait };
		let bytes = TELEMETRY_ENVELOPE_BYTES;
		let count = 0;
		for (const { bytes: size } of this.#samples) {
			if (count === MAX_TELEMETRY_BATCH || bytes + size + 1 > MAX_FRAME_BYTES) break;
			bytes += size + 1; // the comma
			count++;
		}
		const samples = this.#samples.slice(0, count).map((queued) => queued.sample);
		const frame = JSON.stringify({ type: 'telemetry', samples } satisfies ClientMessage);
		return { kind: 'send', frame, count };
	}

	/** Records that the batch from {@link next} went out; it stays queued until answered. */
	markSent(count: number): void {
		this.#inFlight = count;
	}

	/**
	 * Handles the server's answer to the batch in flight: without `retryAfterMs` it was stored
	 * and leaves the queue; with it, it stays at the head and nothing is sent before then.
	 * Returns false when no batch was in flight (a stale answer), true when the caller may
	 * send the next one.
	 */
	answer(retryAfterMs: number | undefined): boolean {
		if (this.#inFlight === 0) return false;
		if (retryAfterMs === undefined) this.#samples.splice(0, this.#inFlight);
		else this.#notBefore = this.#now() + retryAfterMs;
		this.#inFlight = 0;
		return true;
	}

	/**
	 * The connection carrying the batch is gone: unanswered means unknown, so the batch is sent
	 * again on the next one. Sample ids make a duplicate harmless (the server stores it once).
	 */
	forgetInFlight(): void {
		this.#inFlight = 0;
	}
}
