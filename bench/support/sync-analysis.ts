/**
 * The sums behind `bun run bench:sync`: percentiles, inter-participant offsets at display time
 * (the same frame shown by two pages), and the time until every page holds its target. Pure:
 * frames come in on one reference clock (the server's), already converted.
 */
import type { ClockSample, FrameRecord } from './page-probes';

/** A displayed frame on the reference clock: when (ms) and which (media s). */
export type Frame = { at: number; media: number };

export type Summary = {
	n: number;
	p50: number | null;
	p95: number | null;
	p99: number | null;
	max: number | null;
	mean: number | null;
};

/** Nearest-rank percentile of an ascending array. */
export function percentileOf(sorted: readonly number[], p: number): number | null {
	if (sorted.length === 0) return null;
	const rank = Math.ceil(p * sorted.length) - 1;
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/** p50/p95/p99, max and mean of a sample. */
export function summarize(values: readonly number[]): Summary {
	const sorted = [...values].sort((a, b) => a - b);
	const mean = sorted.length ? sorted.reduce((sum, value) => sum + value, 0) / sorted.length : null;
	return {
		n: sorted.length,
		p50: percentileOf(sorted, 0.5),
		p95: percentileOf(sorted, 0.95),
		p99: percentileOf(sorted, 0.99),
		max: sorted.at(-1) ?? null,
		mean
	};
}

export function medianOf(values: readonly number[]): number | null {
	return percentileOf(
		[...values].sort((a, b) => a - b),
		0.5
	);
}

/**
 * The page clock's offset to the wall clock over a stretch of page time: the median of the
 * samples taken in it, and how much the medians of its first and last thirds differ (a clock
 * that drifted during the run would show here).
 */
export function measureWallOffset(
	samples: readonly ClockSample[],
	fromPageMs = -Infinity,
	toPageMs = Infinity
): { wallMinusPageMs: number; driftMs: number; n: number } | null {
	const inside = samples.filter(([at]) => at >= fromPageMs && at <= toPageMs);
	const median = medianOf(inside.map(([, offset]) => offset));
	if (median === null) return null;
	const third = Math.floor(inside.length / 3);
	const first = medianOf(inside.slice(0, third).map(([, offset]) => offset));
	const last = medianOf(inside.slice(-third).map(([, offset]) => offset));
	const driftMs = first !== null && last !== null && third > 0 ? last - first : 0;
	return { wallMinusPageMs: median, driftMs, n: inside.length };
}

/** Frames recorded on a page's clock, moved onto the reference clock. */
export function toReferenceFrames(records: readonly FrameRecord[], referenceMinusPageMs: number) {
	return records.map(([at, media]): Frame => ({ at: at + referenceMinusPageMs, media }));
}

const frameKey = (media: number) => media.toFixed(4);

/** The page's displays of each media frame, by frame: one frame may be shown twice (a seek back). */
function indexFrames(frames: readonly Frame[]): Map<string, number[]> {
	const index = new Map<string, number[]>();
	for (const frame of frames) {
		const key = frameKey(frame.media);
		const list = index.get(key);
		if (list) list.push(frame.at);
		else index.set(key, [frame.at]);
	}
	return index;
}

/**
 * Two displays of one frame further apart than this are not the same showing: the seek back
 * shows frames again ~20 s later, and a page that skipped a frame must not pair with that.
 */
const SAME_SHOWING_MS = 5_000;

function nearest(list: readonly number[] | undefined, at: number): number | undefined {
	let best: number | undefined;
	for (const candidate of list ?? []) {
		if (best === undefined || Math.abs(candidate - at) < Math.abs(best - at)) best = candidate;
	}
	return best !== undefined && Math.abs(best - at) <= SAME_SHOWING_MS ? best : undefined;
}

/**
 * For every frame two pages both displayed (same media time, and the nearest such display in
 * time, since a seek back shows frames again) with both displays inside the window: how much
 * later page `a` showed it than page `b`, ms. One list per pair of pages.
 */
export function measurePairOffsets(
	pages: readonly (readonly Frame[])[],
	inWindow: (at: number) => boolean
): { pair: [number, number]; offsets: number[] }[] {
	const pairs: { pair: [number, number]; offsets: number[] }[] = [];
	const indexes = pages.map(indexFrames);
	for (let a = 0; a < pages.length; a++) {
		for (let b = a + 1; b < pages.length; b++) {
			const other = indexes[b] as Map<string, number[]>;
			const offsets: number[] = [];
			for (const frame of pages[a] as Frame[]) {
				if (!inWindow(frame.at)) continue;
				const match = nearest(other.get(frameKey(frame.media)), frame.at);
				if (match !== undefined && inWindow(match)) offsets.push(frame.at - match);
			}
			pairs.push({ pair: [a, b], offsets });
		}
	}
	return pairs;
}

/** The reference time at which a page displayed a given frame (nearest to `near`), if it did. */
export function createDisplayLookup(frames: readonly Frame[]) {
	const index = indexFrames(frames);
	return (media: number, near: number) => nearest(index.get(frameKey(media)), near);
}

export type ConvergenceOptions = { toleranceMs: number; holdMs: number; minFrames: number };

export const CONVERGENCE: ConvergenceOptions = { toleranceMs: 20, holdMs: 1_000, minFrames: 10 };

/**
 * How long after `from` until every page's frames are all within tolerance of their target
 * and stay so for `holdMs` (with at least `minFrames` frames per page in that stretch, so a
 * page that froze does not count as on target). Null when that never happens before `until`.
 * `errorOf` is a frame's error in ms, or undefined when it cannot be judged (skipped).
 */
export function measureConvergence(
	pages: readonly (readonly Frame[])[],
	errorOf: (frame: Frame, page: number) => number | undefined,
	from: number,
	until: number,
	options: ConvergenceOptions = CONVERGENCE
): number | null {
	const judged = pages.map((frames, page) => {
		const at: number[] = [];
		const badBefore: number[] = [0];
		for (const frame of frames) {
			if (frame.at < from || frame.at > until) continue;
			const error = errorOf(frame, page);
			if (error === undefined) continue;
			at.push(frame.at);
			const bad = Math.abs(error) > options.toleranceMs ? 1 : 0;
			badBefore.push((badBefore.at(-1) as number) + bad);
		}
		return { at, badBefore };
	});
	const candidates = [...new Set(judged.flatMap((page) => page.at))].sort((a, b) => a - b);
	for (const start of candidates) {
		if (start + options.holdMs > until) break;
		const holds = judged.every(({ at, badBefore }) => {
			const lo = lowerBound(at, start);
			const hi = lowerBound(at, start + options.holdMs + 1e-9);
			const bad = (badBefore[hi] as number) - (badBefore[lo] as number);
			return hi - lo >= options.minFrames && bad === 0;
		});
		if (holds) return start - from;
	}
	return null;
}

/** First index whose value is ≥ `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
	let lo = 0;
	let hi = sorted.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if ((sorted[mid] as number) < value) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

/**
 * A frame's error averaged over the page's frames within ±`halfWindowMs`: each frame is shown
 * on a display refresh (16.7 ms at 60 Hz), so single frames scatter by up to a refresh around
 * where the player's media clock really is; the average follows the media clock.
 */
export function smoothErrors(
	pages: readonly (readonly Frame[])[],
	errorOf: (frame: Frame, page: number) => number | undefined,
	halfWindowMs: number
): (frame: Frame, page: number) => number | undefined {
	const smoothed = pages.map((frames, page) => {
		const judged = frames
			.map((frame) => ({ frame, error: errorOf(frame, page) }))
			.filter((item): item is { frame: Frame; error: number } => item.error !== undefined);
		const result = new Map<Frame, number>();
		let lo = 0;
		let hi = 0;
		let sum = 0;
		for (const { frame } of judged) {
			while (
				hi < judged.length &&
				(judged[hi] as { frame: Frame }).frame.at <= frame.at + halfWindowMs
			) {
				sum += (judged[hi] as { error: number }).error;
				hi++;
			}
			while ((judged[lo] as { frame: Frame }).frame.at < frame.at - halfWindowMs) {
				sum -= (judged[lo] as { error: number }).error;
				lo++;
			}
			result.set(frame, sum / (hi - lo));
		}
		return result;
	});
	return (frame, page) => smoothed[page]?.get(frame);
}

/**
 * How late each page started playing at `from` towards media time `mediaFrom`: the error (ms;
 * negative: late) of its first frame shown from then on that lies in the 2 s after `mediaFrom`,
 * is not the frame it stood on, and can be judged (host-led: the host showed it too).
 */
export function measureStartErrors(
	pages: readonly (readonly Frame[])[],
	errorOf: (frame: Frame, page: number) => number | undefined,
	from: number,
	mediaFrom: number
): (number | null)[] {
	return pages.map((frames, page) => {
		const standing = frames.findLast((frame) => frame.at < from)?.media;
		for (const frame of frames) {
			const moving =
				frame.at >= from &&
				frame.media !== standing &&
				frame.media > mediaFrom &&
				frame.media <= mediaFrom + 2;
			const error = moving ? errorOf(frame, page) : undefined;
			if (error !== undefined) return error;
		}
		return null;
	});
}

/** The median spacing of a page's displayed frames, ms: the display's frame pacing. */
export function measureFrameInterval(frames: readonly Frame[]): number | null {
	const gaps: number[] = [];
	for (let i = 1; i < frames.length; i++) {
		gaps.push((frames[i] as Frame).at - (frames[i - 1] as Frame).at);
	}
	return medianOf(gaps);
}
