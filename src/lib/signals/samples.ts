/**
 * Signal samples a participant's device posts (issue 5, item 9), validated at the boundary, and
 * the bounded per-member buffer the server keeps them in while a `group_metric` stage runs.
 */
import * as v from 'valibot';
import { RingBuffer } from './ring-buffer';

/**
 * R-R intervals per sample: a device reports one to a few beats a second, so 60 (18 s at
 * 200 bpm, a minute at 60 bpm) covers a batch sent after a short outage and bounds the frame.
 */
export const MAX_RR_PER_SAMPLE = 60;
/**
 * Bounds of what can be an R-R measurement at all. Merely implausible beats (< 300 ms,
 * > 2000 ms) are accepted here and dropped by the coherence cleaning, so one artefact does not
 * cost the rest of the batch.
 */
export const RR_SAMPLE_BOUNDS_MS = { min: 1, max: 10_000 } as const;
/** Ratings follow the stage's own scale; this only refuses absurd magnitudes. */
export const RATING_BOUND = 1_000_000;

/** Milliseconds since the epoch (the Date range), on the device's clock. */
const At = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(8.64e15));

const RrSample = v.strictObject({
	kind: v.literal('rr'),
	intervalsMs: v.pipe(
		v.array(
			v.pipe(
				v.number(),
				v.finite(),
				v.minValue(RR_SAMPLE_BOUNDS_MS.min),
				v.maxValue(RR_SAMPLE_BOUNDS_MS.max)
			)
		),
		v.minLength(1),
		v.maxLength(MAX_RR_PER_SAMPLE)
	),
	/** When the last interval of the batch ended. */
	at: At
});

const CoherenceSample = v.strictObject({
	kind: v.literal('coherence'),
	/** A score computed on the device, 0–100 like ours. */
	value: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(100)),
	at: At
});

const RatingSample = v.strictObject({
	kind: v.literal('rating'),
	value: v.pipe(v.number(), v.finite(), v.minValue(-RATING_BOUND), v.maxValue(RATING_BOUND)),
	at: At
});

/** One sample from a participant's device. */
export const SignalSampleSchema = v.variant('kind', [RrSample, CoherenceSample, RatingSample]);
export type SignalSample = v.InferOutput<typeof SignalSampleSchema>;
export type SignalKind = SignalSample['kind'];

/** Validates one incoming sample. */
export function parseSignalSample(
	input: unknown
): { ok: true; sample: SignalSample } | { ok: false; reason: 'invalid'; message: string } {
	const result = v.safeParse(SignalSampleSchema, input);
	if (result.success) return { ok: true, sample: result.output };
	return { ok: false, reason: 'invalid', message: result.issues[0].message };
}

/** 90 s: the 64 s coherence window, plus room for batches that end after the window starts. */
export const DEFAULT_BUFFER_WINDOW_MS = 90_000;
/**
 * Samples kept per member: a 10 Hz rating stream for the whole window fits (900). Worst case
 * per member is this × MAX_RR_PER_SAMPLE numbers (~0.5 MB), reached only by a client far
 * outside any rate limit.
 */
export const DEFAULT_BUFFER_CAPACITY = 1_024;
/** Members per buffer: well above any room's group size, there only to bound memory. */
export const DEFAULT_MAX_MEMBERS = 64;

export type SignalBufferOptions = {
	/** The clock the samples' `at` are on. */
	now: () => number;
	windowMs?: number;
	capacity?: number;
	maxMembers?: number;
};

export type PushResult =
	| { ok: true }
	/**
	 * `stale`: older than the window. `out_of_order`: older than the member's newest sample
	 * (concatenated R-R batches must stay in beat order). `too_many_members`: the buffer is full
	 * of members who are all still sending.
	 */
	| { ok: false; reason: 'stale' | 'out_of_order' | 'too_many_members' };

/**
 * The last `windowMs` of each member's samples, in a ring buffer per member. Samples carry the
 * clock the buffer's `now` reads: the ingest is expected to stamp them with server time (or
 * correct the device clock by its measured offset) before pushing.
 */
export class SignalBuffer {
	readonly #members = new Map<string, RingBuffer<SignalSample>>();
	readonly #now: () => number;
	readonly #windowMs: number;
	readonly #capacity: number;
	readonly #maxMembers: number;

	constructor(options: SignalBufferOptions) {
		this.#now = options.now;
		this.#windowMs = options.windowMs ?? DEFAULT_BUFFER_WINDOW_MS;
		this.#capacity = options.capacity ?? DEFAULT_BUFFER_CAPACITY;
		this.#maxMembers = options.maxMembers ?? DEFAULT_MAX_MEMBERS;
	}

	/** Stores `sample` for `memberId`, forgetting what has fallen out of the window. */
	push(memberId: string, sample: SignalSample): PushResult {
		const cutoff = this.#now() - this.#windowMs;
		if (sample.at < cutoff) return { ok: false, reason: 'stale' };
		let ring = this.#members.get(memberId);
		if (!ring) {
			if (this.#members.size >= this.#maxMembers) this.#forgetSilentMembers(cutoff);
			if (this.#members.size >= this.#maxMembers) return { ok: false, reason: 'too_many_members' };
			ring = new RingBuffer<SignalSample>(this.#capacity);
			this.#members.set(memberId, ring);
		}
		const newest = ring.last();
		if (newest && sample.at < newest.at) return { ok: false, reason: 'out_of_order' };
		ring.push(sample);
		dropOlderThan(ring, cutoff);
		return { ok: true };
	}

	/** A member's samples within the window, oldest first. */
	recent(memberId: string): SignalSample[] {
		const ring = this.#members.get(memberId);
		if (!ring) return [];
		dropOlderThan(ring, this.#now() - this.#windowMs);
		return ring.toArray();
	}

	/** A member's R-R intervals within the window, in beat order (input for computeCoherence). */
	rrIntervalsOf(memberId: string): number[] {
		return this.recent(memberId).flatMap((sample) =>
			sample.kind === 'rr' ? sample.intervalsMs : []
		);
	}

	/** Each member's newest sample of `kind` within the window (input for meanOf). */
	latestOf(kind: SignalKind): { memberId: string; sample: SignalSample }[] {
		return [...this.#members.keys()].flatMap((memberId) => {
			const sample = this.recent(memberId).findLast((s) => s.kind === kind);
			return sample ? [{ memberId, sample }] : [];
		});
	}

	/** Members with at least one sample still in the window. */
	memberIds(): string[] {
		return [...this.#members.keys()].filter((memberId) => this.recent(memberId).length > 0);
	}

	/** Forgets a member (they left the room). */
	remove(memberId: string): void {
		this.#members.delete(memberId);
	}

	#forgetSilentMembers(cutoff: number): void {
		for (const [memberId, ring] of this.#members) {
			dropOlderThan(ring, cutoff);
			if (ring.size === 0) this.#members.delete(memberId);
		}
	}
}

function dropOlderThan(ring: RingBuffer<SignalSample>, cutoff: number): void {
	// Samples are in time order (out-of-order pushes are refused), so the old ones are in front.
	while ((ring.first()?.at ?? Infinity) < cutoff) ring.shift();
}
