/** How long a `RoomClient` waits before reconnecting: jittered, growing, reset when stable. */

export type BackoffOptions = {
	baseMs: number;
	capMs: number;
	/** A connection that stayed joined this long resets the backoff to its base. */
	stableAfterMs: number;
};

// Fast first retry (a replica restart takes well under a second to fail over), a cap that
// keeps a waiting participant from staring at a dead room for long, and a reset only after a
// connection proved itself, so a server that accepts then drops does not get hammered.
export const DEFAULT_BACKOFF: BackoffOptions = {
	baseMs: 250,
	capMs: 10_000,
	stableAfterMs: 10_000
};

// Past this the doubling ceiling is far above any cap; clamping keeps 2^attempt finite.
const MAX_DOUBLINGS = 30;

/**
 * Full jitter: uniform in [0, min(cap, base·2^attempt)). Spreads a crowd of clients that lost
 * the same replica at the same instant, instead of reconnecting them in waves.
 */
export function computeBackoffDelay(
	attempt: number,
	random: () => number,
	options: Pick<BackoffOptions, 'baseMs' | 'capMs'>
): number {
	const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, MAX_DOUBLINGS));
	return Math.floor(random() * ceiling);
}

/** The reconnect attempt counter and the delays it implies. */
export class ReconnectBackoff {
	readonly options: BackoffOptions;
	readonly #random: () => number;
	#attempt = 0;

	constructor(options: Partial<BackoffOptions> | undefined, random: () => number) {
		this.options = { ...DEFAULT_BACKOFF, ...options };
		this.#random = random;
	}

	/**
	 * The wait before the next attempt, counting it. `slowDown` (the server said we were rate
	 * limited) waits at least half the cap, jittered over the other half so limited clients
	 * spread out instead of coming back together.
	 */
	nextDelay(slowDown = false): number {
		const delay = slowDown
			? this.options.capMs / 2 + computeBackoffDelay(MAX_DOUBLINGS, this.#random, this.options) / 2
			: computeBackoffDelay(this.#attempt, this.#random, this.options);
		this.#attempt++;
		return delay;
	}

	/** Back to the base delay: after connect(), or once a connection stayed up `stableAfterMs`. */
	reset(): void {
		this.#attempt = 0;
	}
}
