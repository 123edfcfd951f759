/**
 * The server's clock as one room connection sees it: pings over the room socket (a burst when
 * the socket opens, then about one a second) feed `ClockSync` ($lib/sync), whose Kalman filter
 * tracks offset and drift. Countdowns and the synchronized video both read `serverNow()`; while
 * a synchronized video is on screen it asks for pings four times a second, which brings the
 * estimate's error within a millisecond about twice as fast.
 */
import {
	ClockSync,
	nextPingDelayMs,
	PING_FAST_INTERVAL_MS,
	PING_INTERVAL_MS,
	type ClockEstimate
} from '../sync';
import type { PingResult } from './pings';
import { TimerSlot, systemTimers, type Timers } from './timers';

export type ServerClockOptions = {
	/** Sends one ping on the room socket (RoomClient.ping). */
	ping: () => Promise<PingResult>;
	/** The client clock pings are stamped with, ms. */
	now: () => number;
	timers?: Timers;
};

/** Pings while started; the estimate survives reconnects (the clocks did not change). */
export class ServerClock {
	readonly #sync = new ClockSync();
	readonly #options: ServerClockOptions;
	readonly #timer: TimerSlot;
	#running = false;
	/** Pings sent since the socket opened: the first few come as a burst. */
	#sent = 0;
	#lastRoundTripMs: number | null = null;
	/** Who asked for the fast pace and has not released it yet. */
	#fastRequests = 0;

	constructor(options: ServerClockOptions) {
		this.#options = options;
		this.#timer = new TimerSlot(options.timers ?? systemTimers);
	}

	/** The socket is open: a burst of pings, then one a second. */
	start(): void {
		if (this.#running) return;
		this.#running = true;
		this.#sent = 0;
		void this.#pingLoop();
	}

	/** The socket went away: no pings until it is back. */
	stop(): void {
		this.#running = false;
		this.#timer.clear();
	}

	/** The estimate at client time `clientNowMs` (now by default). */
	estimate(clientNowMs = this.#options.now()): ClockEstimate {
		return this.#sync.estimate(clientNowMs);
	}

	/** The server's time at client time `clientNowMs`; undefined before the first good ping. */
	serverNow(clientNowMs = this.#options.now()): number | undefined {
		return this.#sync.serverNow(clientNowMs);
	}

	/**
	 * Pings four times a second until the returned function is called (a synchronized video
	 * asks while it is on screen), from the ping after the next on.
	 */
	requestFastPings(): () => void {
		this.#fastRequests++;
		let released = false;
		return () => {
			if (released) return;
			released = true;
			this.#fastRequests--;
		};
	}

	/** The round trip of the latest answered ping, ms. */
	get lastRoundTripMs(): number | null {
		return this.#lastRoundTripMs;
	}

	async #pingLoop(): Promise<void> {
		if (!this.#running) return;
		const result = await this.#options.ping();
		this.#sent++;
		if (result.ok) {
			this.#lastRoundTripMs = result.roundTripMs;
			this.#sync.addSample(result);
		}
		if (!this.#running) return;
		const intervalMs = this.#fastRequests > 0 ? PING_FAST_INTERVAL_MS : PING_INTERVAL_MS;
		this.#timer.start(nextPingDelayMs(this.#sent, intervalMs), () => void this.#pingLoop());
	}
}
