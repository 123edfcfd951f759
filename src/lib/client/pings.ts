/**
 * Clock pings (NTP-style four timestamps) waiting for their pong. Each ping resolves exactly
 * once and never rejects: with a sample, or with why there is none.
 */
import type { ClientMessage, ServerMessage } from '../protocol';
import type { Timers } from './timers';

/** One NTP-style clock sample; `offsetMs` is server clock minus client clock. */
export type PingResult =
	| {
			ok: true;
			t0: number;
			t1: number;
			t2: number;
			t3: number;
			roundTripMs: number;
			offsetMs: number;
	  }
	| { ok: false; reason: 'not_open' | 'disconnected' | 'timeout' };

// A sample slower than this is of little use anyway: its offset error can be up to RTT/2.
export const DEFAULT_PING_TIMEOUT_MS = 5_000;

type PendingPing = { t0: number; timer: unknown; resolve: (result: PingResult) => void };

/** The pings of one room client, keyed by a per-client counter the server echoes back. */
export class PingTracker {
	readonly #pings = new Map<number, PendingPing>();
	readonly #timers: Timers;
	readonly #now: () => number;
	#nextId = 0;

	constructor(timers: Timers, now: () => number) {
		this.#timers = timers;
		this.#now = now;
	}

	/**
	 * Starts a ping: `transmit` gets its frame. Resolves with the sample when the pong comes,
	 * or with `timeout` after `timeoutMs` (a pong after that is ignored).
	 */
	start(timeoutMs: number, transmit: (frame: string) => void): Promise<PingResult> {
		const id = ++this.#nextId;
		const t0 = this.#now();
		return new Promise((resolve) => {
			const timer = this.#timers.setTimeout(() => {
				this.#pings.delete(id);
				resolve({ ok: false, reason: 'timeout' });
			}, timeoutMs);
			this.#pings.set(id, { t0, timer, resolve });
			transmit(JSON.stringify({ type: 'ping', id, t0 } satisfies ClientMessage));
		});
	}

	/** Resolves the ping a pong answers; unknown ids (timed out, or not ours) are ignored. */
	answer(pong: Extract<ServerMessage, { type: 'pong' }>): void {
		const ping = this.#pings.get(pong.id);
		if (!ping) return;
		this.#pings.delete(pong.id);
		this.#timers.clearTimeout(ping.timer);
		const t3 = this.#now();
		const { t1, t2 } = pong;
		ping.resolve({
			ok: true,
			t0: ping.t0,
			t1,
			t2,
			t3,
			// The server's own processing time (t2 - t1) is not network delay.
			roundTripMs: t3 - ping.t0 - (t2 - t1),
			// Assumes the path is symmetric: the usual NTP estimate.
			offsetMs: (t1 - ping.t0 + (t2 - t3)) / 2
		});
	}

	/** The connection is gone: its pongs can never arrive, so every waiting ping gives up now. */
	abandonAll(): void {
		for (const [id, ping] of this.#pings) {
			this.#timers.clearTimeout(ping.timer);
			this.#pings.delete(id);
			ping.resolve({ ok: false, reason: 'disconnected' });
		}
	}
}
