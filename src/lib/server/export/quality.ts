/**
 * Per-participant quality summaries for the participants dataset, so analysts can exclude
 * badly synced viewers or broken connections: synchronized-video sync quality (pooled over all
 * the participant's video stages, computed by `$lib/sync/quality`) and A/V quality from the
 * `av.quality` reports a conversation stage sends about every 5 s. Pure: samples in, numbers out.
 */
import * as v from 'valibot';
import { nearestRankPercentile, summarizeSyncQuality, type MemberSample } from '../../sync/quality';

/** The per-participant sync figures; nulls when the participant sent no valid sample. */
export type SyncSummary = {
	samples: number;
	errorP50Ms: number | null;
	errorP95Ms: number | null;
	errorMaxMs: number | null;
	stalledSeconds: number;
	seeks: number;
	offsetP50Ms: number | null;
	rttP50Ms: number | null;
};

/** The stage id every sample is pooled under: one summary over all video stages. */
const POOLED_STAGE = 'all';
const POOLED_MEMBER = 'participant';

/**
 * Sync quality over all of a participant's `sync.quality` samples: |error| percentiles over
 * steady-state samples, stalled time, the most seeks on one stage (pooled: the largest
 * counter), clock-offset and RTT medians. Invalid samples are skipped, as the room report does.
 */
export function summarizeParticipantSync(values: readonly unknown[]): SyncSummary {
	const pooled: MemberSample[] = values.map((value) => ({
		memberId: POOLED_MEMBER,
		value: typeof value === 'object' && value !== null ? { ...value, stageId: POOLED_STAGE } : value
	}));
	const [summary] = summarizeSyncQuality(pooled).members;
	if (!summary) {
		return {
			samples: 0,
			errorP50Ms: null,
			errorP95Ms: null,
			errorMaxMs: null,
			stalledSeconds: 0,
			seeks: 0,
			offsetP50Ms: null,
			rttP50Ms: null
		};
	}
	return {
		samples: summary.samples,
		errorP50Ms: summary.errorMs.p50,
		errorP95Ms: summary.errorMs.p95,
		errorMaxMs: summary.errorMs.max,
		stalledSeconds: summary.stalledSeconds,
		seeks: summary.seeks,
		offsetP50Ms: summary.offsetMs.p50,
		rttP50Ms: summary.rttMs.p50
	};
}

const Figure = v.optional(v.pipe(v.number(), v.finite(), v.minValue(0)));

/** `value` of an `av.quality` sample (the browser's AvQualityReport), read leniently. */
const AvQualitySchema = v.object({
	connectionQuality: v.picklist(['excellent', 'good', 'poor', 'lost', 'unknown']),
	tracks: v.pipe(
		v.array(
			v.object({
				kind: v.picklist(['audio', 'video']),
				direction: v.picklist(['send', 'receive']),
				bitrateKbps: Figure,
				packetsLost: Figure,
				jitterMs: Figure
			})
		),
		v.maxLength(256)
	)
});

export type AvSummary = {
	/** Valid reports. */
	reports: number;
	/** Share of reports whose connection was poor or lost (0–1); null without reports. */
	poorShare: number | null;
	/** Packets lost over all tracks and reports. */
	packetsLost: number;
	/** 95th percentile of track jitter over all reports. */
	jitterP95Ms: number | null;
	/** Median bitrate of received video tracks. */
	videoReceiveKbpsP50: number | null;
	/** Reports that did not match the schema. */
	invalid: number;
};

/** Summarizes a participant's `av.quality` reports. */
export function summarizeAvQuality(values: readonly unknown[]): AvSummary {
	let reports = 0;
	let poor = 0;
	let packetsLost = 0;
	let invalid = 0;
	const jitters: number[] = [];
	const videoReceive: number[] = [];
	for (const value of values) {
		const parsed = v.safeParse(AvQualitySchema, value);
		if (!parsed.success) {
			invalid++;
			continue;
		}
		reports++;
		const report = parsed.output;
		if (report.connectionQuality === 'poor' || report.connectionQuality === 'lost') poor++;
		for (const track of report.tracks) {
			packetsLost += track.packetsLost ?? 0;
			if (track.jitterMs !== undefined) jitters.push(track.jitterMs);
			if (
				track.kind === 'video' &&
				track.direction === 'receive' &&
				track.bitrateKbps !== undefined
			) {
				videoReceive.push(track.bitrateKbps);
			}
		}
	}
	const ascending = (a: number, b: number) => a - b;
	return {
		reports,
		poorShare: reports === 0 ? null : poor / reports,
		packetsLost,
		jitterP95Ms: nearestRankPercentile(jitters.sort(ascending), 95),
		videoReceiveKbpsP50: nearestRankPercentile(videoReceive.sort(ascending), 50),
		invalid
	};
}
