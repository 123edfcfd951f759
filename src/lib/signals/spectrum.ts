/**
 * Power spectrum of an evenly sampled series: linear detrend, Hann window, FFT, one-sided power
 * spectral density. Scaled so that band powers are in the series' unit squared (ms² for a
 * tachogram in ms) and summing the whole spectrum gives back the variance of the windowed series.
 */
import { nextPowerOfTwo, transformFourierInPlace } from './fft';

export type PowerSpectrum = {
	/** Spacing of the bins, Hz; bin k is at k × binHz. */
	binHz: number;
	/** One-sided power spectral density per bin, unit²/Hz, bins 0 … N/2. */
	density: number[];
};

/**
 * Subtracts the least-squares line (which also removes the mean). Slow drifts of heart rate
 * would otherwise leak through the window into every low-frequency bin.
 */
export function removeLinearTrend(samples: readonly number[]): number[] {
	const n = samples.length;
	if (n < 2) return samples.map(() => 0);
	const meanX = (n - 1) / 2;
	const meanY = samples.reduce((sum, y) => sum + y, 0) / n;
	let covariance = 0;
	let varianceX = 0;
	samples.forEach((y, x) => {
		covariance += (x - meanX) * (y - meanY);
		varianceX += (x - meanX) ** 2;
	});
	const slope = covariance / varianceX;
	return samples.map((y, x) => y - meanY - slope * (x - meanX));
}

/** The periodic Hann window of length n (the DFT-even form used for spectral analysis). */
export function hannWindow(n: number): number[] {
	return Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
}

/**
 * Detrends, tapers with a Hann window (cuts the leakage of a strong peak into the rest of the
 * band) and transforms `samples` taken at `rateHz`. Zero-pads to a power of two when needed;
 * padding refines the bin spacing without changing band powers.
 */
export function computePowerSpectrum(samples: readonly number[], rateHz: number): PowerSpectrum {
	const n = samples.length;
	const size = nextPowerOfTwo(Math.max(1, n));
	const window = hannWindow(n);
	const detrended = removeLinearTrend(samples);
	const re = new Float64Array(size);
	const im = new Float64Array(size);
	let windowEnergy = 0;
	for (let i = 0; i < n; i++) {
		const w = window[i] as number;
		re[i] = (detrended[i] as number) * w;
		windowEnergy += w * w;
	}
	transformFourierInPlace(re, im);
	const density: number[] = [];
	const scale = windowEnergy > 0 ? 1 / (rateHz * windowEnergy) : 0;
	for (let k = 0; k <= size / 2; k++) {
		// Negative frequencies fold onto positive ones, except DC and Nyquist, which are unique.
		const fold = k === 0 || k === size / 2 ? 1 : 2;
		density.push(fold * scale * ((re[k] as number) ** 2 + (im[k] as number) ** 2));
	}
	return { binHz: rateHz / size, density };
}

/** Power in [lowHz, highHz] (inclusive bin centres), unit². */
export function integrateBand(spectrum: PowerSpectrum, lowHz: number, highHz: number): number {
	let power = 0;
	spectrum.density.forEach((density, k) => {
		const hz = k * spectrum.binHz;
		if (hz >= lowHz && hz <= highHz) power += density * spectrum.binHz;
	});
	return power;
}
