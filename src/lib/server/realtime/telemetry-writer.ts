import type { TelemetrySample } from '../../protocol';
import type { Database } from '../db';
import { telemetrySamples } from '../db/schema';
import { log } from '../log';
import type { RealtimeMetrics } from './metrics';

type Row = typeof telemetrySamples.$inferInsert;

export type TelemetryOptions = {
	/** Samples held in memory at most; beyond it clients are told to resend later. */
	maxQueue?: number;
	flushIntervalMs?: number;
	batchSize?: number;
};

export type EnqueueResult = { accepted: number } | { accepted: 0; retryAfterMs: number };

/**
 * Buffers high-rate telemetry and writes it in multi-row inserts, idempotent by sample id.
 * The queue is bounded: when it is full new samples are refused with a retry hint (the client
 * keeps them), so a slow database never grows memory without limit or blocks a room.
 */
export class TelemetryWriter {
	readonly #db: Database;
	readonly #metrics: RealtimeMetrics;
	readonly #maxQueue: number;
	readonly #batchSize: number;
	readonly #flushIntervalMs: number;
	#queue: Row[] = [];
	#timer: ReturnType<typeof setInterval> | undefined;
	#flushing: Promise<void> | undefined;

	constructor(db: Database, metrics: RealtimeMetrics, options: TelemetryOptions = {}) {
		this.#db = db;
		this.#metrics = metrics;
		this.#maxQueue = options.maxQueue ?? 50_000;
		this.#batchSize = options.batchSize ?? 2_000;
		this.#flushIntervalMs = options.flushIntervalMs ?? 250;
	}

	start(): void {
		this.#timer ??= setInterval(() => void this.flush(), this.#flushIntervalMs);
		this.#timer.unref?.();
	}

	enqueue(
		roomId: string,
		actor: string,
		samples: TelemetrySample[],
		receivedAt: number
	): EnqueueResult {
		if (this.#queue.length + samples.length > this.#maxQueue) {
			this.#metrics.telemetryRefused += samples.length;
			return { accepted: 0, retryAfterMs: this.#flushIntervalMs * 4 };
		}
		const at = new Date(receivedAt);
		for (const sample of samples) {
			this.#queue.push({
				roomId,
				actor,
				sampleId: sample.id,
				kind: sample.kind,
				clientTime: sample.t,
				receivedAt: at,
				value: sample.value ?? null
			});
		}
		this.#metrics.telemetryQueued = this.#queue.length;
		if (this.#queue.length >= this.#batchSize) void this.flush();
		return { accepted: samples.length };
	}

	get queued(): number {
		return this.#queue.length;
	}

	/** Writes everything queued so far; concurrent calls share one flush. */
	flush(): Promise<void> {
		this.#flushing ??= this.#flushAll().finally(() => (this.#flushing = undefined));
		return this.#flushing;
	}

	async #flushAll(): Promise<void> {
		while (this.#queue.length > 0) {
			const batch = this.#queue.slice(0, this.#batchSize);
			try {
				await this.#db.insert(telemetrySamples).values(batch).onConflictDoNothing();
			} catch (error) {
				// Keep the samples and try again on the next tick; the bound still applies.
				log.warn('telemetry.flush_failed', {
					error: (error as Error).message,
					queued: this.#queue.length
				});
				return;
			}
			this.#queue.splice(0, batch.length);
			this.#metrics.telemetryWritten += batch.length;
			this.#metrics.telemetryQueued = this.#queue.length;
		}
	}

	/** Stops the timer and writes what is left (graceful shutdown). */
	async stop(): Promise<void> {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = undefined;
		await this.flush();
	}
}
