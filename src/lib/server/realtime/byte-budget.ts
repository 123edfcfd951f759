/**
 * Bytes an identity's sockets may send, counted before a frame is parsed: a burst, then a steady
 * rate. Parsing and validating is the expensive part of a frame, so an identity that floods
 * (with telemetry the quota would refuse anyway, or anything else) is cut off before it costs
 * others much, and a new socket does not bring a new budget. An identity idle long enough to
 * have its whole burst back is forgotten (it is the same as a new one), so memory holds only
 * identities active in the last few seconds, and at most `maxKeys` of them.
 */
export class ByteBudget<K> {
	// Map order is use order: each consume moves the key to the end.
	readonly #buckets = new Map<K, { bytes: number; updatedAt: number }>();
	readonly #refillMs: number;

	constructor(
		private readonly burstBytes: number,
		private readonly bytesPerSecond: number,
		private readonly maxKeys = 1_000_000
	) {
		this.#refillMs = (burstBytes / bytesPerSecond) * 1000;
	}

	/** Takes `bytes` from `key`'s budget; false (nothing taken) when they do not fit. */
	consume(key: K, bytes: number, now: number): boolean {
		this.#forgetRefilled(now);
		const bucket = this.#buckets.get(key) ?? { bytes: this.burstBytes, updatedAt: now };
		const seconds = Math.max(0, now - bucket.updatedAt) / 1000;
		bucket.bytes = Math.min(this.burstBytes, bucket.bytes + seconds * this.bytesPerSecond);
		bucket.updatedAt = now;
		this.#buckets.delete(key);
		this.#buckets.set(key, bucket);
		if (this.#buckets.size > this.maxKeys) {
			const oldest = this.#buckets.keys().next();
			if (!oldest.done) this.#buckets.delete(oldest.value);
		}
		if (bucket.bytes < bytes) return false;
		bucket.bytes -= bytes;
		return true;
	}

	/** Keys remembered now (tests: memory stays bounded). */
	get size(): number {
		return this.#buckets.size;
	}

	/** Drops keys whose budget has refilled completely; the least recently used come first. */
	#forgetRefilled(now: number): void {
		for (const [key, bucket] of this.#buckets) {
			if (now - bucket.updatedAt < this.#refillMs) return;
			this.#buckets.delete(key);
		}
	}
}
