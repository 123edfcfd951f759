export type ThrottleDecision = { ok: true } | { ok: false; retryAfterMs: number };

/** Keeps at most `maxKeys` entries; the oldest are forgotten first (Map keeps insertion order). */
function trim<K, V>(map: Map<K, V>, maxKeys: number): void {
	while (map.size > maxKeys) {
		const oldest = map.keys().next();
		if (oldest.done) break;
		map.delete(oldest.value);
	}
}

/**
 * A token bucket per key: `capacity` attempts at once, one more every `refillMs`.
 * Memory is bounded by `maxKeys`.
 */
export class TokenBucketThrottle<K> {
	readonly #buckets = new Map<K, { tokens: number; updatedAt: number }>();

	constructor(
		private readonly capacity: number,
		private readonly refillMs: number,
		private readonly maxKeys = 10_000
	) {}

	/** Takes one token for `key`, or says how long until one is available. */
	consume(key: K, now: number): ThrottleDecision {
		const bucket = this.#buckets.get(key) ?? { tokens: this.capacity, updatedAt: now };
		const refilled = Math.min(
			this.capacity,
			bucket.tokens + Math.max(0, now - bucket.updatedAt) / this.refillMs
		);
		this.#buckets.delete(key);
		if (refilled < 1) {
			this.#buckets.set(key, { tokens: refilled, updatedAt: now });
			return { ok: false, retryAfterMs: Math.ceil((1 - refilled) * this.refillMs) };
		}
		this.#buckets.set(key, { tokens: refilled - 1, updatedAt: now });
		trim(this.#buckets, this.maxKeys);
		return { ok: true };
	}

	/** Drops a key's bucket (its owner is gone). */
	forget(key: K): void {
		this.#buckets.delete(key);
	}
}

/**
 * Growing delays after consecutive failures for one key (an account, a device): the first
 * `free` failures cost nothing, then each further one waits the next step of `delaysMs`.
 * Failures are forgotten after `forgetAfterMs` without one (never, by default), so a few old
 * typos do not count against someone days later.
 */
export class FailureBackoff<K> {
	readonly #failures = new Map<K, { count: number; blockedUntil: number; lastFailureAt: number }>();

	constructor(
		private readonly free: number,
		private readonly delaysMs: readonly number[],
		private readonly maxKeys = 10_000,
		private readonly forgetAfterMs = Number.POSITIVE_INFINITY
	) {}

	check(key: K, now: number): ThrottleDecision {
		const entry = this.#failures.get(key);
		if (!entry || entry.blockedUntil <= now) return { ok: true };
		return { ok: false, retryAfterMs: entry.blockedUntil - now };
	}

	recordFailure(key: K, now: number): void {
		const previous = this.#failures.get(key);
		const fresh = !previous || now - previous.lastFailureAt > this.forgetAfterMs;
		const count = (fresh ? 0 : previous.count) + 1;
		const step = count - this.free;
		const delay = step > 0 ? this.delaysMs[Math.min(step, this.delaysMs.length) - 1]! : 0;
		this.#failures.delete(key);
		this.#failures.set(key, { count, blockedUntil: now + delay, lastFailureAt: now });
		trim(this.#failures, this.maxKeys);
	}

	reset(key: K): void {
		this.#failures.delete(key);
	}
}
