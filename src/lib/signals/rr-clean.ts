/**
 * Cleaning an R-R interval series before spectral analysis. Artefacts (missed or doubled
 * detections, premature beats) put sharp steps into the tachogram whose broadband power would
 * swamp the breathing rhythm, so they are dropped and the gap is bridged by interpolation later.
 */

/**
 * 300 ms = 200 bpm: faster than any resting or paced-breathing heart; a shorter interval is a
 * double detection (e.g. a tall T wave counted as a beat).
 */
export const MIN_RR_MS = 300;
/**
 * 2000 ms = 30 bpm: slower than even an athlete's resting heart; a longer interval is a missed
 * beat or a sensor dropout.
 */
export const MAX_RR_MS = 2000;
/**
 * A beat more than 20% away from its local median is treated as ectopic (Malik's classic
 * criterion): sinus rhythm, even with strong breathing modulation, changes far less from one
 * beat to its neighbours, while a premature beat is typically 20–40% short and is followed by a
 * compensatory pause about as much too long.
 */
export const ECTOPIC_TOLERANCE = 0.2;
/**
 * Two plausible beats either side. Short enough that the median follows a 0.1 Hz breathing
 * rhythm (≈10 beats a cycle at 60 bpm), so the crest of a strong oscillation is not mistaken for
 * an ectopic beat; four neighbours still outvote a premature beat and its compensatory pause.
 */
export const LOCAL_MEDIAN_RADIUS = 2;

/** The cleaned series: kept intervals placed at the time their beat ended. */
export type Tachogram = {
	/** Seconds from the start of the first interval to the end of each kept interval. */
	times: number[];
	/** The kept intervals, ms. */
	intervalsMs: number[];
	/** Time covered by the whole input, kept or not, seconds. */
	durationSeconds: number;
	/** How many intervals were dropped as impossible or ectopic. */
	dropped: number;
};

/**
 * Drops impossible and ectopic intervals. The time axis is the cumulative sum of *all*
 * intervals, because a dropped interval still took place: a double detection or a premature beat
 * splits real time, it does not add or remove any.
 */
export function cleanRrIntervals(
	rrIntervalsMs: readonly number[]
): { ok: true; tachogram: Tachogram } | { ok: false; reason: 'invalid' } {
	if (!rrIntervalsMs.every((rr) => Number.isFinite(rr) && rr > 0)) {
		return { ok: false, reason: 'invalid' };
	}
	const ends: number[] = [];
	let elapsed = 0;
	for (const rr of rrIntervalsMs) {
		elapsed += rr / 1000;
		ends.push(elapsed);
	}
	const plausible = rrIntervalsMs.flatMap((rr, index) =>
		rr >= MIN_RR_MS && rr <= MAX_RR_MS ? [index] : []
	);

	const times: number[] = [];
	const intervalsMs: number[] = [];
	plausible.forEach((index, position) => {
		const rr = rrIntervalsMs[index] as number;
		// Neighbours are taken among plausible beats, so a 100 ms glitch cannot drag the median.
		const neighbours = [
			...plausible.slice(Math.max(0, position - LOCAL_MEDIAN_RADIUS), position),
			...plausible.slice(position + 1, position + 1 + LOCAL_MEDIAN_RADIUS)
		].map((i) => rrIntervalsMs[i] as number);
		// With fewer than two neighbours there is no local rhythm to compare against.
		if (neighbours.length >= 2) {
			const median = medianOf(neighbours);
			if (Math.abs(rr - median) > ECTOPIC_TOLERANCE * median) return;
		}
		times.push(ends[index] as number);
		intervalsMs.push(rr);
	});

	return {
		ok: true,
		tachogram: {
			times,
			intervalsMs,
			durationSeconds: elapsed,
			dropped: rrIntervalsMs.length - intervalsMs.length
		}
	};
}

function medianOf(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = sorted.length >> 1;
	return sorted.length % 2 === 1
		? (sorted[middle] as number)
		: ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
