/** Arrivals older than this say little about the current rate (a study's traffic comes in waves). */
export const ARRIVAL_WINDOW_MS = 10 * 60_000;

/** Fewer arrivals than this in the window: too little data to estimate, show no number. */
export const MIN_ARRIVALS = 3;

/**
 * The expected wait (ms) until a group can form: the members still missing divided by the
 * recent arrival rate. The rate is measured from the oldest arrival in the window up to `now`
 * (not to the last arrival), so a lull makes the estimate grow instead of staying optimistic.
 * 0 when enough are waiting already; null when there is not enough data.
 */
export function expectedWait(
	arrivals: number[],
	waiting: number,
	groupSize: number,
	now: number
): number | null {
	const missing = groupSize - waiting;
	if (missing <= 0) return 0;
	const recent = arrivals.filter((at) => at <= now && now - at <= ARRIVAL_WINDOW_MS);
	if (recent.length < MIN_ARRIVALS) return null;
	const span = now - Math.min(...recent);
	if (span <= 0) return null;
	const perMs = recent.length / span;
	return Math.round(missing / perMs);
}
