/**
 * Liveness of one socket. A half-open socket (laptop lid, Wi-Fi handover) fires no close
 * event for minutes; silence for one interval sends a probe, silence for two declares it dead.
 */
import { TimerSlot, type Timers } from './timers';

// Two of these without a frame drop the socket: a dead connection is replaced within 30 s.
export const DEFAULT_HEARTBEAT_MS = 15_000;

export type HeartbeatOptions = {
	/** Silence (no frame at all) after which `onSilence` runs; twice this runs `onDead`. 0: off. */
	intervalMs?: number;
	timers: Timers;
	now: () => number;
	/** Provoke a frame (a ping), so a healthy but quiet connection proves itself. */
	onSilence: () => void;
	/** The socket is presumed dead; the heartbeat has stopped. */
	onDead: () => void;
};

/** Watches the time since the last frame; any frame counts, so a busy room needs no pings. */
export class Heartbeat {
	readonly #intervalMs: number;
	readonly #now: () => number;
	readonly #onSilence: () => void;
	readonly #onDead: () => void;
	readonly #timer: TimerSlot;
	#lastReceivedAt = 0;

	constructor(options: HeartbeatOptions) {
		this.#intervalMs = options.intervalMs ?? DEFAULT_HEARTBEAT_MS;
		this.#now = options.now;
		this.#onSilence = options.onSilence;
		this.#onDead = options.onDead;
		this.#timer = new TimerSlot(options.timers);
	}

	/** Starts watching a new socket, counting from now. */
	start(): void {
		this.received();
		this.#schedule();
	}

	/** Something arrived (or the socket opened): the connection is alive. */
	received(): void {
		this.#lastReceivedAt = this.#now();
	}

	/** Stops watching (the socket is gone). */
	stop(): void {
		this.#timer.clear();
	}

	#schedule(): void {
		if (this.#intervalMs <= 0) return;
		this.#timer.start(this.#intervalMs, () => {
			const silence = this.#now() - this.#lastReceivedAt;
			if (silence >= 2 * this.#intervalMs) {
				this.#onDead();
				return;
			}
			if (silence >= this.#intervalMs) this.#onSilence();
			this.#schedule();
		});
	}
}
