import type { AppendRequest, AppendResult, EventStore } from './event-store';

/** At most this many events go into one statement (Postgres allows 65,535 parameters). */
const MAX_EVENTS_PER_BATCH = 2_000;

type Waiting = {
	request: AppendRequest;
	resolve: (r: AppendResult) => void;
	reject: (e: unknown) => void;
};

/**
 * Group commit: appends requested while a commit is in flight wait and go together in the
 * next statement. An idle system commits at once (no timer delay); a busy one amortises one
 * round trip over many rooms, so durable throughput is not bounded by single-row inserts.
 */
export class GroupCommitter {
	readonly #store: EventStore;
	#queue: Waiting[] = [];
	#flushing: Promise<void> | undefined;
	#batches = 0;
	#events = 0;

	constructor(store: EventStore) {
		this.#store = store;
	}

	append(request: AppendRequest): Promise<AppendResult> {
		return new Promise((resolve, reject) => {
			this.#queue.push({ request, resolve, reject });
			this.#flushing ??= this.#flushLoop();
		});
	}

	/** Waits until everything queued so far is committed (graceful shutdown). */
	async drain(): Promise<void> {
		while (this.#flushing) await this.#flushing;
	}

	get stats() {
		return { batches: this.#batches, events: this.#events, queued: this.#queue.length };
	}

	async #flushLoop(): Promise<void> {
		// One macrotask of grace lets messages that arrived in the same I/O turn join the batch.
		await new Promise((resolve) => setImmediate(resolve));
		try {
			while (this.#queue.length > 0) {
				const batch = this.#takeBatch();
				try {
					const results = await this.#store.appendBatch(batch.map((w) => w.request));
					this.#batches++;
					batch.forEach((waiting, i) => {
						const result = results[i]!;
						if (result.ok) this.#events += result.events.length;
						waiting.resolve(result);
					});
				} catch (error) {
					for (const waiting of batch) waiting.reject(error);
				}
			}
		} finally {
			this.#flushing = undefined;
		}
	}

	#takeBatch(): Waiting[] {
		let count = 0;
		let size = 0;
		while (size < this.#queue.length && count < MAX_EVENTS_PER_BATCH) {
			count += this.#queue[size]!.request.events.length;
			size++;
		}
		return this.#queue.splice(0, Math.max(1, size));
	}
}
