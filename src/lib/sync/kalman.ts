/**
 * A two-state Kalman filter for a clock: the offset between two clocks (ms) and its drift
 * (ms per ms), over the time of the clock doing the measuring. Pure: every step returns a new
 * state, so a caller can keep a checkpoint and replay measurements from it.
 */

/** The filter's belief: a mean and its covariance `[[pOO, pOD], [pOD, pDD]]`. */
export type DriftFilter = {
	/** The (client) time, ms, the belief refers to. */
	atMs: number;
	offsetMs: number;
	/** How fast the offset grows, ms per ms (1e-6 is one ppm). */
	drift: number;
	/** Variance of the offset, ms². */
	pOO: number;
	/** Covariance of offset and drift, ms. */
	pOD: number;
	/** Variance of the drift, (ms/ms)². */
	pDD: number;
};

/** How much the truth may wander between measurements (continuous-time spectral densities). */
export type ProcessNoise = {
	/** White noise on the offset itself (a random walk of the phase), ms² per ms. */
	offsetMs2PerMs: number;
	/** White noise on the drift (a random walk of the frequency), (ms/ms)² per ms. */
	driftPerMs: number;
};

/** A belief made of one measurement: its offset and variance, and a prior on the drift. */
export function createDriftFilter(
	atMs: number,
	offsetMs: number,
	offsetVarianceMs2: number,
	driftVariance: number
): DriftFilter {
	return { atMs, offsetMs, drift: 0, pOO: offsetVarianceMs2, pOD: 0, pDD: driftVariance };
}

/**
 * The belief carried forward to `toMs` under constant drift, with the uncertainty the process
 * noise adds. Never goes back in time: an earlier `toMs` returns the filter unchanged.
 */
export function predictDriftFilter(
	filter: DriftFilter,
	toMs: number,
	noise: ProcessNoise
): DriftFilter {
	const dt = toMs - filter.atMs;
	if (!(dt > 0)) return filter;
	const { pOO, pOD, pDD } = filter;
	const q = noise.driftPerMs;
	return {
		atMs: toMs,
		offsetMs: filter.offsetMs + filter.drift * dt,
		drift: filter.drift,
		// F P Fᵀ + Q, with F = [[1, dt], [0, 1]] and the integrated random-walk noise.
		pOO: pOO + 2 * dt * pOD + dt * dt * pDD + noise.offsetMs2PerMs * dt + (q * dt * dt * dt) / 3,
		pOD: pOD + dt * pDD + (q * dt * dt) / 2,
		pDD: pDD + q * dt
	};
}

/** How far a measurement is from the belief, and the variance that difference should have. */
export function innovationOf(
	filter: DriftFilter,
	measuredOffsetMs: number,
	varianceMs2: number
): { innovationMs: number; varianceMs2: number } {
	return {
		innovationMs: measuredOffsetMs - filter.offsetMs,
		varianceMs2: filter.pOO + varianceMs2
	};
}

/**
 * The belief after one offset measurement with the given variance, taken at `filter.atMs`
 * (predict to the measurement's time first).
 */
export function updateDriftFilter(
	filter: DriftFilter,
	measuredOffsetMs: number,
	varianceMs2: number
): DriftFilter {
	const { pOO, pOD, pDD } = filter;
	const s = pOO + varianceMs2;
	const gainOffset = pOO / s;
	const gainDrift = pOD / s;
	const innovation = measuredOffsetMs - filter.offsetMs;
	return {
		atMs: filter.atMs,
		offsetMs: filter.offsetMs + gainOffset * innovation,
		drift: filter.drift + gainDrift * innovation,
		// (I − K H) P with H = [1, 0]; each term stays non-negative because s ≥ pOO.
		pOO: pOO * (1 - gainOffset),
		pOD: pOD * (1 - gainOffset),
		pDD: Math.max(0, pDD - gainDrift * pOD)
	};
}
