import type { TelemetrySample } from '../../protocol';
import type { Database } from '../db';
import { describeDatabaseError, isContentRefusal } from '../db/errors';
import { telemetrySamples } from '../db/schema';
import { logThrottled } from '../log';
import type { RealtimeMetrics } from './metrics';

type Row = typeof telemetrySamples.$inferInsert;

/** Told when the database refused some of a sender's samples (they are dropped, not retried). */
export type RefusalListener = (refused: number, message: string) => void;

type Queued = { row: Row; onRefused?: RefusalListener };

export type TelemetryOptions = {
	/** Samples held in memory at most; beyond it clients are told to resend later. */
	maxQueue?: number;
	flushIntervalMs?: number;
	batchSize?: number;
	/** Longest pause between flush attempts while the database keeps failing. */
	maxBackoffMs?: number;
	now?: () => number;
};

export type EnqueueResult = { accepted: number } | { accepted: 0; retryAfterMs: number };

/** What a sender hears about samples the database refused. */
const UNSTORABLE_MESSAGE = 'Some telemetry samples could not be stored and were dropped.';

/**
 * Buffers high-rate telemetry and writes it in multi-row inserts, idempotent by sample id.
 * The queue is bounded: when it is full new samples are refused with a retry hint (the client
 * keeps them), so a slow database never grows memory without limit or blocks a room.
 *
 * One sender's bad sample never holds up anyone else's: a batch the database refuses for its
 * content is split until the offending samples stand alone; they are dropped (counted, their
 * sender told) and the rest is written. A database that is unreachable is retried with a
 * growing pause, keeping the samples within the bound.
 */
export class TelemetryWriter {
	readonly #db: Database;
	readonly #metrics: RealtimeMetrics;
	readonly #maxQueue: number;
	readonly #batchSize: number;
	readonly #flushIntervalMs: number;
	readonly #maxBackoffMs: number;
	readonly #now: () => number;
	#queue: Queued[] = [];
	#timer: ReturnType<typeof setInterval> | undefined;
	#flushing: Promise<void> | undefined;
	#failures = 0;
	#retryAt = 0;

	constructor(db: Database, metrics: RealtimeMetrics, options: TelemetryOptions = {}) {
		this.#db = db;
		this.#metrics = metrics;
		this.#maxQueue = options.maxQueue ?? 50_000;
		this.#batchSize = options.batchSize ?? 2_000;
		this.#flushIntervalMs = options.flushIntervalMs ?? 250;
		this.#maxBackoffMs = options.maxBackoffMs ?? 5_000;
		this.#now = options.now ?? Date.now;
	}

	start(): void {
		this.#timer ??= setInterval(() => void this.flush(), this.#flushIntervalMs);
		this.#timer.unref?.();
	}

	/**
	 * Queues a sender's samples for storage, or refuses them all with a retry hint when the
	 * queue is full. `onRefused` hears about samples the database refused later.
	 */
	enqueue(
		roomId: string,
		actor: string,
		samples: TelemetrySample[],
		receivedAt: number,
		onRefused?: RefusalListener
	): EnqueueResult {
		if (this.#queue.length + samples.length > this.#maxQueue) {
			this.#metrics.telemetryRefused += samples.length;
			return {
				accepted: 0,
				retryAfterMs: Math.max(this.#flushIntervalMs * 4, this.#backoffLeft())
			};
		}
		const at = new Date(receivedAt);
		for (const sample of samples) {
			this.#queue.push({
				row: {
					roomId,
					actor,
					sampleId: sample.id,
					kind: sample.kind,
					clientTime: sample.t,
					receivedAt: at,
					value: sample.value ?? null
				},
				onRefused
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

	#backoffLeft(): number {
		return Math.max(0, this.#retryAt - this.#now());
	}

	async #flushAll(): Promise<void> {
		if (this.#backoffLeft() > 0) return;
		while (this.#queue.length > 0) {
			const batch = this.#queue.slice(0, this.#batchSize);
			const written = await this.#insertIsolated(batch);
			if (!written.ok) {
				// Unreachable or failing for another reason: keep the samples, pause, try again.
				this.#failures++;
				const pause = Math.min(this.#maxBackoffMs, this.#flushIntervalMs * 2 ** this.#failures);
				this.#retryAt = this.#now() + pause;
				logThrottled('warn', 'telemetry.flush_failed', {
					error: describeDatabaseError(written.error),
					queued: this.#queue.length,
					retryInMs: pause
				});
				return;
			}
			this.#failures = 0;
			this.#retryAt = 0;
			this.#queue.splice(0, batch.length);
			this.#metrics.telemetryWritten += batch.length - written.refused.length;
			this.#metrics.telemetryQueued = this.#queue.length;
			if (written.refused.length > 0) this.#reportRefused(written.refused);
		}
	}

	/**
	 * Inserts `batch`; when the database refuses it for its content, inserts each half the same
	 * way, so only the offending samples are left out (about log2(n) extra statements each).
	 */
	async #insertIsolated(
		batch: Queued[]
	): Promise<{ ok: true; refused: Queued[] } | { ok: false; error: unknown }> {
		try {
			await this.#db
				.insert(telemetrySamples)
				.values(batch.map((queued) => queued.row))
				.onConflictDoNothing();
			return { ok: true, refused: [] };
		} catch (error) {
			if (!isContentRefusal(error)) return { ok: false, error };
			if (batch.length === 1) return { ok: true, refused: batch };
		}
		const middle = Math.ceil(batch.length / 2);
		const first = await this.#insertIsolated(batch.slice(0, middle));
		if (!first.ok) return first;
		const second = await this.#insertIsolated(batch.slice(middle));
		if (!second.ok) return second;
		return { ok: true, refused: [...first.refused, ...second.refused] };
	}

	#reportRefused(refused: Queued[]): void {
		this.#metrics.telemetryUnstorable += refused.length;
		logThrottled('warn', 'telemetry.samples_unstorable', { samples: refused.length });
		const bySender = new Map<RefusalListener, number>();
		for (const { onRefused } of refused) {
			if (onRefused) bySender.set(onRefused, (bySender.get(onRefused) ?? 0) + 1);
		}
		for (const [listener, count] of bySender) {
			try {
				listener(count, UNSTORABLE_MESSAGE);
			} catch {
				// The sender is gone; nothing to tell.
			}
		}
	}

	/**
	 * Stops the timer and writes what is left (graceful shutdown), trying again while the
	 * database fails until `deadlineMs` has passed; what could not be written is counted in
	 * the log, never silently dropped.
	 */
	async stop(deadlineMs = 5_000): Promise<void> {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = undefined;
		const giveUpAt = this.#now() + deadlineMs;
		for (;;) {
			this.#retryAt = 0;
			await this.flush();
			if (this.#queue.length === 0) return;
			if (this.#now() >= giveUpAt) break;
			await Bun.sleep(Math.min(250, Math.max(1, giveUpAt - this.#now())));
		}
		logThrottled('error', 'telemetry.lost_at_shutdown', { samples: this.#queue.length }, 0);
	}
}
