/**
 * Group metrics for the `group_metric` stage: a summary of members' coherence scores, and the
 * generic group mean of a signal (e.g. a continuous rating) over members who are still sending.
 */
import { bandOf, type CoherenceBand } from './bands';

export type MemberScore = { memberId: string; score: number };

export type GroupSummary = {
	ok: true;
	/** Members counted (each once). */
	count: number;
	mean: number;
	/** The highest score. */
	peak: number;
	min: number;
	/** How many members are in each band. */
	distribution: Record<CoherenceBand, number>;
};

/**
 * Summarises members' coherence scores (0–100). A member listed twice counts once, with the
 * later entry, so a caller appending updates to a list cannot weigh one person double.
 */
export function summarizeGroup(
	scores: readonly MemberScore[]
): GroupSummary | { ok: false; reason: 'empty' } {
	const latest = new Map<string, number>();
	for (const { memberId, score } of scores) {
		if (Number.isFinite(score)) latest.set(memberId, score);
	}
	if (latest.size === 0) return { ok: false, reason: 'empty' };
	const values = [...latest.values()];
	const distribution: Record<CoherenceBand, number> = { low: 0, medium: 0, high: 0 };
	for (const score of values) distribution[bandOf(score)]++;
	return {
		ok: true,
		count: values.length,
		mean: values.reduce((sum, score) => sum + score, 0) / values.length,
		peak: Math.max(...values),
		min: Math.min(...values),
		distribution
	};
}

/**
 * 10 s: a member whose device has been silent that long has most likely left or lost the
 * connection, and their last value must not freeze the group mean; it is still longer than a
 * brief reconnect, so a flaky network does not make the mean jump.
 */
export const DEFAULT_MAX_SAMPLE_AGE_MS = 10_000;

export type MemberSample = { memberId: string; value: number; at: number };

export type GroupMeanOptions = {
	/** Current time, on the same clock as the samples' `at`. */
	now: number;
	/** Members whose latest sample is older than this are left out; default 10 s. */
	maxAgeMs?: number;
};

/**
 * The mean over members of each member's latest sample, ignoring members with no sample in the
 * last `maxAgeMs`. Every member weighs the same however often their device sends.
 */
export function meanOf(
	samples: readonly MemberSample[],
	options: GroupMeanOptions
): { ok: true; mean: number; count: number } | { ok: false; reason: 'no_recent_samples' } {
	const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_SAMPLE_AGE_MS;
	const latest = new Map<string, MemberSample>();
	for (const sample of samples) {
		if (!Number.isFinite(sample.value) || !Number.isFinite(sample.at)) continue;
		const known = latest.get(sample.memberId);
		if (!known || sample.at >= known.at) latest.set(sample.memberId, sample);
	}
	const recent = [...latest.values()].filter((sample) => options.now - sample.at <= maxAgeMs);
	if (recent.length === 0) return { ok: false, reason: 'no_recent_samples' };
	return {
		ok: true,
		mean: recent.reduce((sum, sample) => sum + sample.value, 0) / recent.length,
		count: recent.length
	};
}
