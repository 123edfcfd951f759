/**
 * One room's live group metric (issue 5, item 9): members' recent signal samples in a bounded
 * buffer, and the `group_metric` stage's value computed from them on demand. In memory only,
 * per replica; the LiveRoom owns one and drops it with the room.
 */
import type { GroupMetricData } from '../../protocol';
import {
	computeCoherence,
	DEFAULT_MAX_SAMPLE_AGE_MS,
	meanOf,
	SignalBuffer,
	summarizeGroup,
	type SignalKind,
	type SignalSample
} from '../../signals';

/** What a `group_metric` stage asks for (its id and content). */
export type MetricStage = {
	id: string;
	metric: 'mean' | 'coherence';
	signal: string;
	min: number;
	max: number;
};

/**
 * Sample ids remembered per member to drop resent samples (a resent R-R batch counted twice
 * would double beats and wreck the spectrum). Twice the buffer's capacity per member.
 */
const REMEMBERED_SAMPLE_IDS = 2_048;

export type RoomMetricsOptions = {
	/** Server clock, ms; samples are stamped with it before they are pushed. */
	now: () => number;
	/** Members whose newest sample is older than this are left out; default 10 s. */
	maxAgeMs?: number;
	/** Members tracked at most (bounds memory whatever a client sends). */
	maxMembers?: number;
};

export type RecordResult =
	{ ok: true } | { ok: false; reason: 'duplicate' | 'stale' | 'out_of_order' | 'too_many_members' };

/** The aggregator of one room. */
export class RoomMetrics {
	readonly #buffer: SignalBuffer;
	readonly #seen = new Map<string, Set<string>>();
	readonly #now: () => number;
	readonly #maxAgeMs: number;

	constructor(options: RoomMetricsOptions) {
		this.#now = options.now;
		this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_SAMPLE_AGE_MS;
		this.#buffer = new SignalBuffer({ now: options.now, maxMembers: options.maxMembers });
	}

	/** Adds one member's sample, once per sample id. */
	record(memberId: string, sampleId: string, sample: SignalSample): RecordResult {
		const seen = this.#seen.get(memberId);
		if (seen?.has(sampleId)) return { ok: false, reason: 'duplicate' };
		const pushed = this.#buffer.push(memberId, sample);
		if (!pushed.ok) return pushed;
		const ids = seen ?? new Set<string>();
		ids.add(sampleId);
		// Sets iterate in insertion order, so the first id is the oldest one.
		if (ids.size > REMEMBERED_SAMPLE_IDS) ids.delete(ids.values().next().value!);
		this.#seen.set(memberId, ids);
		return { ok: true };
	}

	/** Forgets a member (they left the room for good). */
	remove(memberId: string): void {
		this.#buffer.remove(memberId);
		this.#seen.delete(memberId);
	}

	/**
	 * The stage's metric over `memberIds` (the room's active members): per-member values and
	 * the group summary. Members silent for longer than `maxAgeMs` are left out.
	 */
	compute(stage: MetricStage, memberIds: readonly string[]): GroupMetricData {
		const now = this.#now();
		const base = { stageId: stage.id, metric: stage.metric, signal: stage.signal, at: now };
		const scale = { min: stage.min, max: stage.max };
		if (stage.metric === 'coherence') {
			const members = memberIds.flatMap((id) => {
				const value = this.#coherenceOf(id, now);
				return value === undefined ? [] : [{ id, value }];
			});
			const summary = summarizeGroup(members.map((m) => ({ memberId: m.id, score: m.value })));
			const group = summary.ok
				? {
						count: summary.count,
						mean: summary.mean,
						peak: summary.peak,
						min: summary.min,
						distribution: summary.distribution
					}
				: null;
			return { ...base, ...scale, members, group };
		}
		const kind = signalKindOf(stage.signal);
		const allowed = new Set(memberIds);
		const latest = kind
			? this.#buffer
					.latestOf(kind)
					.filter(({ memberId }) => allowed.has(memberId))
					.map(({ memberId, sample }) => ({ memberId, value: valueOf(sample), at: sample.at }))
			: [];
		const mean = meanOf(latest, { now, maxAgeMs: this.#maxAgeMs });
		const members = latest
			.filter((s) => now - s.at <= this.#maxAgeMs)
			.map((s) => ({ id: s.memberId, value: s.value }));
		const values = members.map((m) => m.value);
		const group = mean.ok
			? { count: mean.count, mean: mean.mean, peak: Math.max(...values), min: Math.min(...values) }
			: null;
		return { ...base, ...scale, members, group };
	}

	/**
	 * A reported score when the device sends one, else the score of the member's R-R window;
	 * undefined when silent or when there is not yet a full window of beats.
	 */
	#coherenceOf(memberId: string, now: number): number | undefined {
		const recent = this.#buffer.recent(memberId);
		const newest = recent.at(-1);
		if (!newest || now - newest.at > this.#maxAgeMs) return undefined;
		const reported = recent.findLast((s) => s.kind === 'coherence');
		if (reported && now - reported.at <= this.#maxAgeMs) return valueOf(reported);
		const rr = this.#buffer.rrIntervalsOf(memberId);
		if (rr.length === 0) return undefined;
		const result = computeCoherence(rr);
		return result.ok ? result.score : undefined;
	}
}

/** The sample kind a stage's `signal` names (`rating` and `signal.rating` alike). */
function signalKindOf(signal: string): SignalKind | undefined {
	const name = signal.startsWith('signal.') ? signal.slice('signal.'.length) : signal;
	return name === 'rr' || name === 'coherence' || name === 'rating' ? name : undefined;
}

/** One number per sample: R-R batches count as their mean interval. */
function valueOf(sample: SignalSample): number {
	if (sample.kind !== 'rr') return sample.value;
	return sample.intervalsMs.reduce((sum, rr) => sum + rr, 0) / sample.intervalsMs.length;
}
