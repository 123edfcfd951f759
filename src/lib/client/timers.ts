/** Injectable timers, so tests drive reconnects, heartbeats and retries with a fake clock. */

export type Timers = {
	setTimeout(callback: () => void, ms: number): unknown;
	clearTimeout(handle: unknown): void;
};

/** The platform's timers (browser or Bun). */
export const systemTimers: Timers = {
	setTimeout: (callback, ms) => setTimeout(callback, ms),
	clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)
};

/**
 * One timer for one purpose (reconnect, poll, …): starting it replaces the previous one, so a
 * purpose can never have two callbacks racing, and clearing an idle slot is a no-op.
 */
export class TimerSlot {
	readonly #timers: Timers;
	#handle: unknown;
	#armed = false;

	constructor(timers: Timers) {
		this.#timers = timers;
	}

	/** Runs `callback` after `ms`, cancelling whatever this slot was waiting for. */
	start(ms: number, callback: () => void): void {
		this.clear();
		const handle = this.#timers.setTimeout(() => {
			this.#armed = false;
			callback();
		}, ms);
		this.#handle = handle;
		this.#armed = true;
	}

	/** Cancels the pending callback, if any. */
	clear(): void {
		if (!this.#armed) return;
		this.#armed = false;
		this.#timers.clearTimeout(this.#handle);
	}
}
