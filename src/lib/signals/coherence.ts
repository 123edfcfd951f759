/**
 * Heart-rhythm coherence of one person (issue 5, item 9): the power of the dominant rhythm in
 * 0.04–0.26 Hz over the total power in 0–0.4 Hz, × 100. A person breathing slowly and evenly
 * (about 6 breaths a minute) drives their heart rate into one narrow sine-like oscillation near
 * 0.1 Hz, so nearly all the power sits in that peak; an irregular rhythm spreads it out.
 */
import { bandOf, type CoherenceBand } from './bands';
import { resampleLinear } from './resample';
import { cleanRrIntervals } from './rr-clean';
import { computePowerSpectrum, integrateBand, type PowerSpectrum } from './spectrum';

/**
 * 64 s: long enough for ~6 cycles of 0.1 Hz breathing and 2.5 of the slowest rhythm searched
 * (0.04 Hz), giving 1/64 ≈ 0.016 Hz bins, yet short enough to follow a change within a minute.
 * At 4 Hz it is 256 samples, a power of two, so the FFT needs no padding.
 */
export const DEFAULT_WINDOW_SECONDS = 64;
/**
 * 4 Hz, the usual HRV resampling rate: ten times the highest frequency analysed (0.4 Hz), so
 * linear interpolation barely attenuates the band, and a power of two per second.
 */
export const RESAMPLE_HZ = 4;
/** Where the dominant rhythm is looked for (the definition). */
export const PEAK_SEARCH_HZ = { low: 0.04, high: 0.26 } as const;
/** The total power the peak is compared with (the definition). */
export const TOTAL_POWER_HZ = { low: 0, high: 0.4 } as const;
/**
 * ±0.03 Hz around the peak: the Hann window spreads even a pure rhythm over its main lobe
 * (±2 bins = ±0.031 Hz at 64 s), so the window takes the peak bin and one bin either side,
 * which hold ≥ 98% of a pure tone's power wherever it falls between bins. The ±0.015 Hz of the
 * HeartMath description would keep only the peak bin at our resolution (48–67% of a pure tone),
 * so a perfectly regular rhythm would score medium.
 */
export const PEAK_HALF_WIDTH_HZ = 0.03;
/**
 * At least 80% of the analysis window must be covered by clean beats; beyond that the
 * interpolation across dropped beats would invent too much of the signal to score.
 */
export const MIN_CLEAN_FRACTION = 0.8;
/** Window lengths callers may ask for: ≥ one cycle of 0.04 Hz (25 s) with margin; ≤ 5 min. */
export const WINDOW_SECONDS_RANGE = { min: 32, max: 300 } as const;
/** Below this total power (ms²) there is no variability at all, so nothing to be coherent. */
const FLAT_POWER_MS2 = 1e-9;

export type CoherenceOptions = {
	/** Length of the analysed window, counted back from the last beat; default 64 s. */
	windowSeconds?: number;
};

export type CoherenceResult =
	| {
			ok: true;
			/** 0–100. */
			score: number;
			band: CoherenceBand;
			/** Power-weighted centre of the peak, Hz. */
			peakHz: number;
			/** Power around the peak, ms². */
			peakPower: number;
			/** Power in 0–0.4 Hz, ms². */
			totalPower: number;
			windowSeconds: number;
	  }
	| {
			ok: false;
			/**
			 * `too_short`: less than one window of recording, or of clean beats in it.
			 * `invalid`: an interval that is not a positive finite number, or a bad window length.
			 */
			reason: 'too_short' | 'invalid';
	  };

/**
 * Computes the coherence score of the last `windowSeconds` of an R-R interval series (ms, in
 * beat order, contiguous). Impossible and ectopic intervals are dropped, not fatal.
 */
export function computeCoherence(
	rrIntervalsMs: readonly number[],
	options: CoherenceOptions = {}
): CoherenceResult {
	const windowSeconds = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
	if (
		!Number.isFinite(windowSeconds) ||
		windowSeconds < WINDOW_SECONDS_RANGE.min ||
		windowSeconds > WINDOW_SECONDS_RANGE.max
	) {
		return { ok: false, reason: 'invalid' };
	}
	const cleaned = cleanRrIntervals(rrIntervalsMs);
	if (!cleaned.ok) return cleaned;
	const { times, intervalsMs, durationSeconds } = cleaned.tachogram;
	if (durationSeconds < windowSeconds) return { ok: false, reason: 'too_short' };

	const end = durationSeconds;
	const start = end - windowSeconds;
	let cleanSeconds = 0;
	times.forEach((t, i) => {
		if (t > start) cleanSeconds += (intervalsMs[i] as number) / 1000;
	});
	if (cleanSeconds < MIN_CLEAN_FRACTION * windowSeconds) return { ok: false, reason: 'too_short' };

	const count = Math.round(windowSeconds * RESAMPLE_HZ);
	const even = resampleLinear(times, intervalsMs, start, RESAMPLE_HZ, count);
	const spectrum = computePowerSpectrum(even, RESAMPLE_HZ);
	const totalPower = integrateBand(spectrum, TOTAL_POWER_HZ.low, TOTAL_POWER_HZ.high);
	if (totalPower < FLAT_POWER_MS2) {
		// A metronome-steady rhythm (or a pacemaker): no oscillation to speak of.
		return {
			ok: true,
			score: 0,
			band: bandOf(0),
			peakHz: 0,
			peakPower: 0,
			totalPower: 0,
			windowSeconds
		};
	}
	const peakBin = findPeakBin(spectrum);
	const peakHz = peakBin * spectrum.binHz;
	let peakPower = 0;
	let weightedHz = 0;
	spectrum.density.forEach((density, k) => {
		const hz = k * spectrum.binHz;
		if (Math.abs(hz - peakHz) <= PEAK_HALF_WIDTH_HZ) {
			peakPower += density * spectrum.binHz;
			weightedHz += hz * density * spectrum.binHz;
		}
	});
	const score = Math.min(100, (100 * peakPower) / totalPower);
	return {
		ok: true,
		score,
		band: bandOf(score),
		peakHz: peakPower > 0 ? weightedHz / peakPower : peakHz,
		peakPower,
		totalPower,
		windowSeconds
	};
}

/**
 * The highest local maximum in the search band. A bin at the band's edge that is only the slope
 * of slower (or faster) power outside the band is not a rhythm of its own, so it wins only when
 * the band holds no local maximum at all.
 */
function findPeakBin(spectrum: PowerSpectrum): number {
	const { density, binHz } = spectrum;
	let best = -1;
	let fallback = -1;
	density.forEach((power, k) => {
		const hz = k * binHz;
		if (hz < PEAK_SEARCH_HZ.low || hz > PEAK_SEARCH_HZ.high) return;
		if (fallback < 0 || power > (density[fallback] as number)) fallback = k;
		const isLocalMaximum =
			power >= (density[k - 1] ?? -Infinity) && power >= (density[k + 1] ?? -Infinity);
		if (isLocalMaximum && (best < 0 || power > (density[best] as number))) best = k;
	});
	return best >= 0 ? best : Math.max(fallback, 0);
}
