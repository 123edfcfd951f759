/**
 * The telemetry quota of each participant (each actor in each room): samples per second, bytes
 * per second, and bytes per stage. A batch is taken whole or refused whole with `retryAfterMs`
 * (the reference client keeps a refused batch and sends it again after that long), so an
 * honest backlog drains at the quota's pace instead of being lost.
 *
 * Sized from what the real clients send (a few times the honest peak):
 *
 * | kind                          | sent by                                | rate              | bytes/sample |
 * | ----------------------------- | -------------------------------------- | ----------------- | ------------ |
 * | `video.rating`                | LiveVideo, while the video plays       | the stage's 1–60 Hz | ≈ 190      |
 * | `sync.quality`                | SyncedPlayer on a video stage          | 1 Hz              | ≈ 330        |
 * | `av.quality`                  | Conversation on a conversation stage   | 1 per 5 s         | ≈ 150–1500   |
 * | `signal.rr`                   | the heart-rate sensor, any room stage  | ≈ 1 Hz            | ≈ 90         |
 * | `signal.*` (HTTP)             | a device, `POST /s/<slug>/signals`     | a batch every few s | ≈ 100–500  |
 *
 * The honest peak is a 60 Hz rated video: ≈ 62 samples and ≈ 12.5 KB a second.
 *
 * Memory is bounded: one small entry per identity, forgotten after a long idle period, and at
 * most `maxIdentities` of them (the least recently used go first). Per replica, like every
 * rate limit here: a participant's socket and their room normally live on one replica.
 */
import type { TelemetrySample } from '../../protocol';
import type { Stage } from '../../study';

export type TelemetryLimits = {
	/** Samples accepted at once (must hold a full 500-sample frame and a short outage's backlog). */
	burstSamples: number;
	samplesPerSecond: number;
	/** Bytes accepted at once (at least one 64 KiB frame). */
	burstBytes: number;
	bytesPerSecond: number;
};

/**
 * Four times the honest peak (62 samples/s, 12.5 KB/s), with bursts that take a 30 s outage's
 * backlog (≈ 1,900 samples, ≈ 375 KB) in one go.
 */
export const DEFAULT_TELEMETRY_LIMITS: TelemetryLimits = {
	burstSamples: 2_000,
	samplesPerSecond: 250,
	burstBytes: 512 * 1024,
	bytesPerSecond: 64 * 1024
};

/** What one stage may store per participant: `bytes` under the stage's `key`. */
export type StageAllowance = { key: string; bytes: number };

export type QuotaDecision =
	{ ok: true } | { ok: false; reason: 'samples' | 'bytes' | 'stage'; retryAfterMs: number };

// --- Stage allowances, sized from the stage types ---------------------------------------------

/** A heart-rate sensor can send on any room stage (≈ 1 notification a second) plus a device's posts. */
const BASE_BYTES_PER_SECOND = 300;
const RATING_SAMPLE_BYTES = 200;
const SYNC_REPORT_BYTES_PER_SECOND = 400;
/** Up to 16 tracks of ≈ 90 B every 5 s. */
const AV_REPORT_BYTES_PER_SECOND = 2_000 / 5;
/** An untimed stage is sized as if it ran this long (a feature film, a long focus session). */
const UNTIMED_STAGE_SECONDS = 4 * 3600;
/** Honest use may exceed the estimate this many times before a stage is full. */
const STAGE_HEADROOM = 4;
/** No stage allows less (short stages still take a backlog from the previous one). */
const MIN_STAGE_BYTES = 8 * 1024 * 1024;
/** A full stage is retried this often: the next stage starts a fresh allowance. */
const STAGE_FULL_RETRY_MS = 30_000;

/** The highest continuous-rating rate a video stage asks for, over its content and variants. */
function ratingHz(stage: Extract<Stage, { type: 'video' }>): number {
	const contents = [stage.content, ...stage.variants.map((variant) => variant.content)];
	return Math.max(0, ...contents.map((content) => content.continuousRating?.sampleRateHz ?? 0));
}

/** Bytes a second one honest member sends on this stage (null: a room without stages). */
export function honestBytesPerSecond(stage: Stage | null): number {
	if (stage?.type === 'video') {
		return (
			BASE_BYTES_PER_SECOND + SYNC_REPORT_BYTES_PER_SECOND + ratingHz(stage) * RATING_SAMPLE_BYTES
		);
	}
	if (stage?.type === 'conversation') return BASE_BYTES_PER_SECOND + AV_REPORT_BYTES_PER_SECOND;
	return BASE_BYTES_PER_SECOND;
}

/**
 * What one participant may store during a stage: the honest rate for its type over its time
 * limit (or 4 h when it has none), four times over, and never less than 8 MiB. `key` names the
 * stage so a new stage starts a new allowance.
 */
export function stageTelemetryAllowance(stage: Stage | null, key: string): StageAllowance {
	const seconds = stage?.durationSeconds ?? UNTIMED_STAGE_SECONDS;
	const bytes = STAGE_HEADROOM * honestBytesPerSecond(stage) * seconds;
	return { key, bytes: Math.max(MIN_STAGE_BYTES, Math.ceil(bytes)) };
}

/** Bytes a batch of samples takes on the wire (UTF-8 JSON), the measure of every byte quota. */
export function measureSamples(samples: readonly TelemetrySample[]): number {
	return Buffer.byteLength(JSON.stringify(samples), 'utf8');
}

// --- The quota --------------------------------------------------------------------------------

type Entry = {
	samples: number;
	bytes: number;
	updatedAt: number;
	stageKey: string | undefined;
	stageBytes: number;
	stageLimit: number;
};

export type TelemetryQuotaOptions = {
	limits?: TelemetryLimits;
	/** Identities remembered at most; the least recently used are forgotten first. */
	maxIdentities?: number;
	/** An identity unused this long is forgotten (its stage count with it). */
	idleMs?: number;
};

/** Per-identity telemetry quota; identities are strings the caller builds (room + actor). */
export class TelemetryQuota {
	readonly #limits: TelemetryLimits;
	readonly #maxIdentities: number;
	readonly #idleMs: number;
	// Map order is use order: each take moves the identity to the end.
	readonly #entries = new Map<string, Entry>();

	constructor(options: TelemetryQuotaOptions = {}) {
		this.#limits = options.limits ?? DEFAULT_TELEMETRY_LIMITS;
		this.#maxIdentities = options.maxIdentities ?? 50_000;
		this.#idleMs = options.idleMs ?? 30 * 60_000;
	}

	/** The identity of one participant in one room. */
	static identity(roomId: string, actorId: string): string {
		return `${roomId}\u0000${actorId}`;
	}

	/**
	 * Takes a batch of `bytes` holding `count` samples from `identity`'s quota, or refuses it
	 * whole and says when to try again. `stage` is the room's current stage when known; without
	 * it the batch counts against the stage last seen for this identity.
	 */
	take(
		identity: string,
		count: number,
		bytes: number,
		now: number,
		stage?: StageAllowance
	): QuotaDecision {
		const limits = this.#limits;
		const entry = this.#refill(identity, now);
		if (stage && stage.key !== entry.stageKey) {
			entry.stageKey = stage.key;
			entry.stageBytes = 0;
		}
		if (stage) entry.stageLimit = stage.bytes;
		if (entry.stageBytes + bytes > entry.stageLimit) {
			return { ok: false, reason: 'stage', retryAfterMs: STAGE_FULL_RETRY_MS };
		}
		// A batch larger than a whole burst passes once the bucket is full, leaving a debt.
		const needSamples = Math.min(count, limits.burstSamples);
		const needBytes = Math.min(bytes, limits.burstBytes);
		if (entry.samples < needSamples || entry.bytes < needBytes) {
			const waitSamples = ((needSamples - entry.samples) / limits.samplesPerSecond) * 1000;
			const waitBytes = ((needBytes - entry.bytes) / limits.bytesPerSecond) * 1000;
			const reason = waitSamples >= waitBytes ? 'samples' : 'bytes';
			return {
				ok: false,
				reason,
				retryAfterMs: Math.max(1, Math.ceil(Math.max(waitSamples, waitBytes)))
			};
		}
		entry.samples -= count;
		entry.bytes -= bytes;
		entry.stageBytes += bytes;
		return { ok: true };
	}

	/** Identities remembered now (tests: memory stays bounded). */
	get size(): number {
		return this.#entries.size;
	}

	/** The identity's entry with its buckets refilled to `now`, moved to the most recent end. */
	#refill(identity: string, now: number): Entry {
		this.#forgetIdle(now);
		const limits = this.#limits;
		const entry = this.#entries.get(identity) ?? {
			samples: limits.burstSamples,
			bytes: limits.burstBytes,
			updatedAt: now,
			stageKey: undefined,
			stageBytes: 0,
			stageLimit: Number.POSITIVE_INFINITY
		};
		const seconds = Math.max(0, now - entry.updatedAt) / 1000;
		entry.samples = Math.min(
			limits.burstSamples,
			entry.samples + seconds * limits.samplesPerSecond
		);
		entry.bytes = Math.min(limits.burstBytes, entry.bytes + seconds * limits.bytesPerSecond);
		entry.updatedAt = now;
		this.#entries.delete(identity);
		this.#entries.set(identity, entry);
		while (this.#entries.size > this.#maxIdentities) {
			const oldest = this.#entries.keys().next();
			if (oldest.done) break;
			this.#entries.delete(oldest.value);
		}
		return entry;
	}

	/** Drops identities idle past `idleMs`; the oldest come first, so this stops at the first live one. */
	#forgetIdle(now: number): void {
		for (const [identity, entry] of this.#entries) {
			if (now - entry.updatedAt < this.#idleMs) return;
			this.#entries.delete(identity);
		}
	}
}
