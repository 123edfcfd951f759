/**
 * The latest sync and A/V quality per member, from the telemetry members send on their room
 * socket (`sync.quality` about once a second on a video stage, `av.quality` about every 5 s in a
 * conversation). Pure: the replica that receives the samples keeps one of these per member and
 * relays the summary to the monitors; stored telemetry is untouched.
 */
import * as v from 'valibot';
import {
	nearestRankPercentile,
	SYNC_QUALITY_KIND,
	SyncQualitySampleSchema,
	type SyncPhase
} from '../sync/quality';
import type { MonitorAvQuality, MonitorMemberQuality, MonitorSyncQuality } from './protocol';

/** Telemetry kind of a conversation's quality report. */
export const AV_QUALITY_KIND = 'av.quality';

/** Steady-state errors kept per member for the median: about the last 20 s of video. */
export const SYNC_ERROR_WINDOW = 20;

/** Phases in which the error measures how well the player follows the schedule. */
const STEADY: ReadonlySet<SyncPhase> = new Set(['locked', 'correcting']);

const Kbps = v.optional(v.pipe(v.number(), v.finite(), v.minValue(0)));
// Loose on purpose (like the stored-data schemas): a newer client's extra fields are fine.
const AvQualitySampleSchema = v.object({
	connectionQuality: v.picklist(['excellent', 'good', 'poor', 'lost', 'unknown']),
	tracks: v.optional(
		v.pipe(
			v.array(
				v.object({
					direction: v.picklist(['send', 'receive']),
					bitrateKbps: Kbps,
					packetsLost: Kbps,
					jitterMs: Kbps
				})
			),
			v.maxLength(64)
		),
		[]
	)
});

/** One member's quality as the receiving replica tracks it. */
export type MemberQualityState = {
	/** |error| of recent steady-state sync samples, oldest first (at most SYNC_ERROR_WINDOW). */
	steadyErrors: number[];
	sync: MonitorSyncQuality | null;
	av: MonitorAvQuality | null;
};

export const EMPTY_QUALITY: MonitorMemberQuality = { sync: null, av: null };

/** Whether a telemetry kind is one the monitor shows. */
export function isQualityKind(kind: string): boolean {
	return kind === SYNC_QUALITY_KIND || kind === AV_QUALITY_KIND;
}

const sum = (values: (number | undefined)[]): number | null => {
	const known = values.filter((value): value is number => value !== undefined);
	return known.length === 0 ? null : Math.round(known.reduce((a, b) => a + b, 0) * 10) / 10;
};

/**
 * Folds one telemetry sample received at server time `at` into a member's quality. Returns the
 * state unchanged (the same object) for other kinds and for samples that fail their schema.
 */
export function recordQualitySample(
	state: MemberQualityState | undefined,
	sample: { kind: string; value: unknown },
	at: number
): MemberQualityState | undefined {
	if (sample.kind === SYNC_QUALITY_KIND) {
		const parsed = v.safeParse(SyncQualitySampleSchema, sample.value);
		if (!parsed.success) return state;
		const value = parsed.output;
		const previous = state?.steadyErrors ?? [];
		const steadyErrors = STEADY.has(value.phase)
			? [...previous, Math.abs(value.errorMs)].slice(-SYNC_ERROR_WINDOW)
			: previous;
		const errorP50Ms = nearestRankPercentile(
			[...steadyErrors].sort((a, b) => a - b),
			50
		);
		return {
			steadyErrors,
			av: state?.av ?? null,
			sync: {
				offsetMs: value.offsetMs,
				errorP50Ms,
				rttMs: value.rttMs,
				uncertaintyMs: value.uncertaintyMs,
				phase: value.phase,
				at
			}
		};
	}
	if (sample.kind === AV_QUALITY_KIND) {
		const parsed = v.safeParse(AvQualitySampleSchema, sample.value);
		if (!parsed.success) return state;
		const { connectionQuality, tracks } = parsed.output;
		const jitters = tracks.flatMap((track) =>
			track.jitterMs === undefined ? [] : [track.jitterMs]
		);
		const rate = (direction: 'send' | 'receive') =>
			sum(tracks.filter((t) => t.direction === direction).map((t) => t.bitrateKbps));
		return {
			steadyErrors: state?.steadyErrors ?? [],
			sync: state?.sync ?? null,
			av: {
				connection: connectionQuality,
				packetsLost: sum(tracks.map((track) => track.packetsLost)),
				jitterMs: jitters.length === 0 ? null : Math.max(...jitters),
				sendKbps: rate('send'),
				receiveKbps: rate('receive'),
				at
			}
		};
	}
	return state;
}

/** What the monitor shows of a member's quality. */
export function summarizeQuality(state: MemberQualityState | undefined): MonitorMemberQuality {
	return state ? { sync: state.sync, av: state.av } : EMPTY_QUALITY;
}

/**
 * Merges quality heard from several replicas (a member's sockets may sit on more than one):
 * for each of sync and av the more recent report wins.
 */
export function mergeQuality(
	current: MonitorMemberQuality | undefined,
	incoming: MonitorMemberQuality
): MonitorMemberQuality {
	const newer = <T extends { at: number }>(a: T | null | undefined, b: T | null): T | null =>
		!a ? b : !b ? a : b.at >= a.at ? b : a;
	return { sync: newer(current?.sync, incoming.sync), av: newer(current?.av, incoming.av) };
}
