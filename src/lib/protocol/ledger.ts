/**
 * The client's record of which room events it has applied. Events reach a client more than
 * once (a replay after a reconnect overlaps live frames, a `fetch` answer overlaps a late
 * frame) and, across replicas, sometimes out of order or not at all. The ledger turns that
 * into exactly-once, in-order delivery and says which ranges to ask for again.
 *
 * Pure and isomorphic: no sockets, no timers. The caller passes its clock (`now`, ms) in and
 * acts on the returned {@link LedgerRequest}.
 */
import type { RoomEvent } from './index';

/** An inclusive range of seqs, as sent in a `fetch` message. */
export type SeqRange = { from: number; to: number };

/** What the caller should ask the server for after feeding the ledger. */
export type LedgerRequest =
	| { kind: 'none' }
	/** Send one `fetch` per range. */
	| { kind: 'fetch'; ranges: SeqRange[] }
	/** The gap is too wide to buffer across: start over (reconnect; the server replays or resyncs). */
	| { kind: 'resync' };

export type LedgerOptions = {
	/** The last seq already applied (0 for none). */
	lastSeq?: number;
	/** Called once per event, in seq order, with no gaps. */
	onEvent: (event: RoomEvent) => void;
	/** Called when the ledger restarts from a snapshot; events after `head` follow via onEvent. */
	onResync?: (head: number, snapshot: unknown) => void;
	/**
	 * How far beyond `lastSeq` an event may be and still be held while the gap fills. Bounds
	 * memory; a client that far behind is cheaper to resync than to patch.
	 */
	maxBuffered?: number;
	/** A request still unanswered after this long is sent again (frames can be lost across replicas). */
	refetchAfterMs?: number;
};

const DEFAULT_MAX_BUFFERED = 1000;
// Long enough for a fetch to round-trip through a busy replica, short enough that a user
// does not notice a stuck room.
const DEFAULT_REFETCH_AFTER_MS = 3000;

type OutstandingRequest = SeqRange & { at: number };

/** Exactly-once, in-order delivery of room events from an unreliable stream. */
export class EventLedger {
	#lastSeq: number;
	/** The highest seq known to exist (seen or announced); gaps are measured up to it. */
	#knownHead: number;
	readonly #buffer = new Map<number, RoomEvent>();
	#requests: OutstandingRequest[] = [];
	readonly #onEvent: (event: RoomEvent) => void;
	readonly #onResync: (head: number, snapshot: unknown) => void;
	readonly #maxBuffered: number;
	readonly #refetchAfterMs: number;

	constructor(options: LedgerOptions) {
		this.#lastSeq = options.lastSeq ?? 0;
		this.#knownHead = this.#lastSeq;
		this.#onEvent = options.onEvent;
		this.#onResync = options.onResync ?? (() => {});
		this.#maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
		this.#refetchAfterMs = options.refetchAfterMs ?? DEFAULT_REFETCH_AFTER_MS;
	}

	/** The seq of the last event delivered. */
	get lastSeq(): number {
		return this.#lastSeq;
	}

	/** Events held back behind a gap. */
	get buffered(): number {
		return this.#buffer.size;
	}

	/** True while some seq up to the known head has not been delivered. */
	get behind(): boolean {
		return this.#knownHead > this.#lastSeq;
	}

	/**
	 * Takes one event or a run of them, in any order, duplicates allowed. Delivers what is now
	 * contiguous and returns what to ask for: each missing range is requested once, until
	 * {@link poll} finds the request stale.
	 */
	receive(events: RoomEvent | readonly RoomEvent[], now: number): LedgerRequest {
		let overflow = false;
		for (const event of Array.isArray(events) ? events : [events]) {
			const seq = event.seq;
			if (!Number.isSafeInteger(seq) || seq <= this.#lastSeq || this.#buffer.has(seq)) continue;
			this.#knownHead = Math.max(this.#knownHead, seq);
			if (seq > this.#lastSeq + this.#maxBuffered) {
				overflow = true;
				continue;
			}
			this.#buffer.set(seq, event);
			this.#flush();
		}
		if (overflow) return { kind: 'resync' };
		return this.#requestGaps(now);
	}

	/**
	 * Records that events up to `head` exist and are already on their way (the replay that
	 * follows `joined`): they are not requested now, but are fetched if still missing after
	 * the refetch timeout.
	 */
	expect(head: number, now: number): void {
		if (head <= this.#lastSeq) return;
		// The replay covers everything after lastSeq, including holes below buffered events.
		this.#requests.push({ from: this.#lastSeq + 1, to: head, at: now });
		this.#knownHead = Math.max(this.#knownHead, head);
	}

	/** Re-requests ranges whose request went unanswered for too long. Call at {@link nextPollAt}. */
	poll(now: number): LedgerRequest {
		return this.#requestGaps(now);
	}

	/** When an outstanding request goes stale (caller's clock), or undefined if none is. */
	nextPollAt(): number | undefined {
		if (this.#requests.length === 0) return undefined;
		return Math.min(...this.#requests.map((r) => r.at)) + this.#refetchAfterMs;
	}

	/**
	 * Forgets outstanding requests: a new connection replays from `lastSeq`, so answers to the
	 * old connection's fetches will never come and must not suppress new requests.
	 */
	forgetRequests(): void {
		this.#requests = [];
	}

	/**
	 * Starts over from a snapshot taken at `head`. Buffered events after `head` are kept and
	 * delivered (after `onResync`) if they continue the snapshot.
	 */
	resync(head: number, snapshot: unknown): void {
		this.#lastSeq = head;
		for (const seq of this.#buffer.keys()) if (seq <= head) this.#buffer.delete(seq);
		this.#requests = [];
		this.#knownHead = Math.max(head, ...this.#buffer.keys());
		this.#onResync(head, snapshot);
		this.#flush();
	}

	#flush(): void {
		for (let next = this.#buffer.get(this.#lastSeq + 1); next;) {
			this.#buffer.delete(next.seq);
			// Advance before calling out, so a throwing callback cannot make us deliver twice.
			this.#lastSeq = next.seq;
			this.#onEvent(next);
			next = this.#buffer.get(this.#lastSeq + 1);
		}
	}

	#requestGaps(now: number): LedgerRequest {
		this.#requests = this.#requests.filter(
			(r) => r.to > this.#lastSeq && now - r.at < this.#refetchAfterMs
		);
		const ranges = subtractRanges(this.#findGaps(), this.#requests);
		if (ranges.length === 0) return { kind: 'none' };
		for (const range of ranges) this.#requests.push({ ...range, at: now });
		return { kind: 'fetch', ranges };
	}

	/** The missing ranges between lastSeq and the known head, ascending. */
	#findGaps(): SeqRange[] {
		const gaps: SeqRange[] = [];
		let expected = this.#lastSeq + 1;
		const held = [...this.#buffer.keys()].sort((a, b) => a - b);
		for (const seq of [...held, this.#knownHead + 1]) {
			if (seq > expected) gaps.push({ from: expected, to: seq - 1 });
			expected = Math.max(expected, seq + 1);
		}
		return gaps;
	}
}

/** The parts of `ranges` not covered by any of `covered`. Both inclusive; `ranges` ascending. */
function subtractRanges(ranges: SeqRange[], covered: readonly SeqRange[]): SeqRange[] {
	const sorted = [...covered].sort((a, b) => a.from - b.from);
	const result: SeqRange[] = [];
	for (const range of ranges) {
		let from = range.from;
		for (const c of sorted) {
			if (c.to < from || c.from > range.to) continue;
			if (c.from > from) result.push({ from, to: c.from - 1 });
			from = Math.max(from, c.to + 1);
			if (from > range.to) break;
		}
		if (from <= range.to) result.push({ from, to: range.to });
	}
	return result;
}
