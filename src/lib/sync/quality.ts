/**
 * Sync quality as research data (issue 6): the telemetry a synchronized video stage sends
 * (`sync.quality` about once a second per participant, `video.rating` for continuous ratings),
 * its valibot schemas, and the per-participant summary analysts use to exclude badly synced
 * viewers. Pure and isomorphic: rows come in, numbers come out.
 */
import * as v from 'valibot';
import { MAX_MEDIA_TIME_S } from './schedule';
import { MAX_PLAY_LATENCY_MS } from './start';

/** Telemetry kind of a participant's sync-quality sample. */
export const SYNC_QUALITY_KIND = 'sync.quality';
/** Telemetry kind of a continuous rating given while a video plays. */
export const VIDEO_RATING_KIND = 'video.rating';

/** The controller's phases (`ControlPhase` in controller.ts), as they travel in samples. */
export const SYNC_PHASES = [
	'locked',
	'correcting',
	'seeking',
	'stalled',
	'paused',
	'idle'
] as const;
export type SyncPhase = (typeof SYNC_PHASES)[number];

/**
 * Phases in which the error measures steady-state sync. While seeking, stalled or paused the
 * player is not trying to follow the schedule (or cannot), so its error says nothing about how
 * well synchronization works and would swamp the percentiles.
 */
const STEADY_PHASES: ReadonlySet<SyncPhase> = new Set(['locked', 'correcting']);

/** Samples are sent about once a second, so each stalled sample stands for about a second. */
export const SYNC_QUALITY_INTERVAL_S = 1;

/** A day of media, in ms: larger errors (or uncertainties) are no measurement but a bug. */
const MAX_ERROR_MS = MAX_MEDIA_TIME_S * 1000;
/** Server − client clock offsets up to the Date range: a machine clock may be years off. */
const MAX_OFFSET_MS = 8.64e15;
/** A round trip over a minute is no clock-sync sample anyone would keep. */
const MAX_RTT_MS = 60_000;
/** Browsers clamp playbackRate to 0.0625–16; 0 is what a paused element may report. */
const MAX_RATE = 16;
/** A frame interval above a second is no video. */
const MAX_FRAME_MS = 1_000;
/** Seek counters beyond this on one stage are a client bug, not a participant. */
const MAX_SEEKS = 1_000_000;
/** Stage ids are at most 48 characters (study schema); a little slack for the wire. */
const MAX_STAGE_ID_LENGTH = 64;
/** Continuous ratings live on a study's scale; magnitudes beyond a million are garbage. */
const MAX_RATING_MAGNITUDE = 1e6;

const finite = (min: number, max: number) =>
	v.pipe(v.number(), v.finite(), v.minValue(min), v.maxValue(max));
const StageId = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_STAGE_ID_LENGTH));

// Plain objects, not strict ones: a newer client adding a field must not turn its samples
// into "invalid" here, since these schemas read stored research data, not commands.

/** `value` of a `sync.quality` telemetry sample: every number finite and in range. */
export const SyncQualitySampleSchema = v.object({
	stageId: StageId,
	/** Target − displayed media time, ms; positive = behind. */
	errorMs: finite(-MAX_ERROR_MS, MAX_ERROR_MS),
	/** The element's playbackRate. */
	rate: finite(0, MAX_RATE),
	/** Estimated server − client clock, ms. */
	offsetMs: finite(-MAX_OFFSET_MS, MAX_OFFSET_MS),
	rttMs: finite(0, MAX_RTT_MS),
	uncertaintyMs: finite(0, MAX_ERROR_MS),
	phase: v.picklist(SYNC_PHASES),
	/** Seeks so far on this stage. */
	seeks: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_SEEKS)),
	/** The play latency the player's next start plays ahead by, ms (optional: newer clients). */
	playLatencyMs: v.optional(finite(0, MAX_PLAY_LATENCY_MS)),
	/** The measured spacing of displayed frames, ms; null before it was measured. */
	frameMs: v.optional(v.nullable(finite(0, MAX_FRAME_MS)))
});
export type SyncQualitySample = v.InferOutput<typeof SyncQualitySampleSchema>;

/** `value` of a `video.rating` telemetry sample. */
export const RatingSampleSchema = v.object({
	stageId: StageId,
	/** Media position (s) the rating was given at. */
	mediaTime: finite(0, MAX_MEDIA_TIME_S),
	/** Estimated server clock, ms since the epoch (the Date range). */
	serverTime: finite(0, MAX_OFFSET_MS),
	value: finite(-MAX_RATING_MAGNITUDE, MAX_RATING_MAGNITUDE)
});
export type RatingSample = v.InferOutput<typeof RatingSampleSchema>;

/** A stored telemetry value and who sent it (`telemetry_samples.actor`). */
export type MemberSample = { memberId: string; value: unknown };

/** A distribution's nearest-rank percentiles; null when there was nothing to rank. */
export type Percentiles = { p50: number | null; p95: number | null; max: number | null };

export type SyncQualitySummary = {
	memberId: string;
	stageId: string;
	/** Valid samples, every phase. */
	samples: number;
	/** Of |errorMs| over the samples in phase locked or correcting only. */
	errorMs: Percentiles;
	/** Approximate: stalled samples × ~1 s between samples. */
	stalledSeconds: number;
	/** The largest seek counter seen. */
	seeks: number;
	rttMs: { p50: number | null };
	uncertaintyMs: { p50: number | null };
	offsetMs: { p50: number | null };
};

export type RatingSummary = {
	memberId: string;
	stageId: string;
	samples: number;
	/** Smallest and largest `serverTime`, ms since the epoch. */
	firstServerTime: number;
	lastServerTime: number;
};

/**
 * The nearest-rank percentile of `sorted` (ascending): the smallest value with at least p% of
 * the values at or below it, i.e. `sorted[ceil(p/100 · n) − 1]`. Always an observed value, no
 * interpolation; null for no values. `p` in (0, 100].
 */
export function nearestRankPercentile(sorted: readonly number[], p: number): number | null {
	if (sorted.length === 0) return null;
	const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
	return sorted[Math.min(rank, sorted.length) - 1]!;
}

const ascending = (a: number, b: number) => a - b;
const median = (values: number[]) => nearestRankPercentile(values.sort(ascending), 50);

type Accumulator = {
	memberId: string;
	stageId: string;
	samples: number;
	steadyErrors: number[];
	stalled: number;
	seeks: number;
	rtts: number[];
	uncertainties: number[];
	offsets: number[];
};

/** The key of one member's samples on one stage. */
function groupKey(memberId: string, stageId: string): string {
	return JSON.stringify([memberId, stageId]);
}

function compareByMemberAndStage(
	a: { memberId: string; stageId: string },
	b: { memberId: string; stageId: string }
): number {
	if (a.memberId !== b.memberId) return a.memberId < b.memberId ? -1 : 1;
	if (a.stageId !== b.stageId) return a.stageId < b.stageId ? -1 : 1;
	return 0;
}

/**
 * Summarizes `sync.quality` samples per member and stage: error percentiles over steady-state
 * samples, approximate stalled time, seeks, and the medians of the clock estimate. Samples that
 * fail `SyncQualitySampleSchema` are skipped and counted in `invalid`.
 */
export function summarizeSyncQuality(samples: Iterable<MemberSample>): {
	members: SyncQualitySummary[];
	invalid: number;
} {
	const groups = new Map<string, Accumulator>();
	let invalid = 0;
	for (const { memberId, value } of samples) {
		const parsed = v.safeParse(SyncQualitySampleSchema, value);
		if (!parsed.success) {
			invalid++;
			continue;
		}
		const sample = parsed.output;
		const key = groupKey(memberId, sample.stageId);
		let group = groups.get(key);
		if (!group) {
			group = {
				memberId,
				stageId: sample.stageId,
				samples: 0,
				steadyErrors: [],
				stalled: 0,
				seeks: 0,
				rtts: [],
				uncertainties: [],
				offsets: []
			};
			groups.set(key, group);
		}
		group.samples++;
		if (STEADY_PHASES.has(sample.phase)) group.steadyErrors.push(Math.abs(sample.errorMs));
		if (sample.phase === 'stalled') group.stalled++;
		group.seeks = Math.max(group.seeks, sample.seeks);
		// The clock estimate does not depend on what the player does: every phase counts.
		group.rtts.push(sample.rttMs);
		group.uncertainties.push(sample.uncertaintyMs);
		group.offsets.push(sample.offsetMs);
	}
	const members = [...groups.values()].map((group): SyncQualitySummary => {
		const errors = group.steadyErrors.sort(ascending);
		return {
			memberId: group.memberId,
			stageId: group.stageId,
			samples: group.samples,
			errorMs: {
				p50: nearestRankPercentile(errors, 50),
				p95: nearestRankPercentile(errors, 95),
				max: errors.at(-1) ?? null
			},
			stalledSeconds: group.stalled * SYNC_QUALITY_INTERVAL_S,
			seeks: group.seeks,
			rttMs: { p50: median(group.rtts) },
			uncertaintyMs: { p50: median(group.uncertainties) },
			offsetMs: { p50: median(group.offsets) }
		};
	});
	return { members: members.sort(compareByMemberAndStage), invalid };
}

/**
 * Counts `video.rating` samples per member and stage with the first and last server time, so a
 * researcher can see ratings landed. Samples that fail `RatingSampleSchema` are counted in
 * `invalid`.
 */
export function summarizeRatings(samples: Iterable<MemberSample>): {
	ratings: RatingSummary[];
	invalid: number;
} {
	const groups = new Map<string, RatingSummary>();
	let invalid = 0;
	for (const { memberId, value } of samples) {
		const parsed = v.safeParse(RatingSampleSchema, value);
		if (!parsed.success) {
			invalid++;
			continue;
		}
		const { stageId, serverTime } = parsed.output;
		const key = groupKey(memberId, stageId);
		const group = groups.get(key);
		if (!group) {
			groups.set(key, {
				memberId,
				stageId,
				samples: 1,
				firstServerTime: serverTime,
				lastServerTime: serverTime
			});
			continue;
		}
		group.samples++;
		group.firstServerTime = Math.min(group.firstServerTime, serverTime);
		group.lastServerTime = Math.max(group.lastServerTime, serverTime);
	}
	return { ratings: [...groups.values()].sort(compareByMemberAndStage), invalid };
}
