import { describe, expect, test } from 'bun:test';
import { transformFourierInPlace, nextPowerOfTwo } from '../../src/lib/signals/fft';
import { resampleLinear } from '../../src/lib/signals/resample';
import { cleanRrIntervals } from '../../src/lib/signals/rr-clean';
import {
	computePowerSpectrum,
	integrateBand,
	removeLinearTrend
} from '../../src/lib/signals/spectrum';
import { createSeededRandom } from '../../src/lib/signals/synthetic';

/** The definition, term by term: the reference the FFT must match. */
function directDft(re: number[], im: number[]): { re: number[]; im: number[] } {
	const n = re.length;
	const out = { re: [] as number[], im: [] as number[] };
	for (let k = 0; k < n; k++) {
		let sumRe = 0;
		let sumIm = 0;
		for (let t = 0; t < n; t++) {
			const angle = (-2 * Math.PI * k * t) / n;
			sumRe += (re[t] as number) * Math.cos(angle) - (im[t] as number) * Math.sin(angle);
			sumIm += (re[t] as number) * Math.sin(angle) + (im[t] as number) * Math.cos(angle);
		}
		out.re.push(sumRe);
		out.im.push(sumIm);
	}
	return out;
}

describe('transformFourierInPlace', () => {
	test('matches a direct DFT on random complex input', () => {
		const random = createSeededRandom(42);
		for (const n of [1, 2, 4, 8, 64, 256]) {
			const re = Array.from({ length: n }, () => random() * 2 - 1);
			const im = Array.from({ length: n }, () => random() * 2 - 1);
			const expected = directDft(re, im);
			const fre = Float64Array.from(re);
			const fim = Float64Array.from(im);
			transformFourierInPlace(fre, fim);
			for (let k = 0; k < n; k++) {
				expect(fre[k]).toBeCloseTo(expected.re[k] as number, 9);
				expect(fim[k]).toBeCloseTo(expected.im[k] as number, 9);
			}
		}
	});

	test('refuses lengths that are not a power of two', () => {
		expect(() => transformFourierInPlace(new Float64Array(6), new Float64Array(6))).toThrow();
		expect(() => transformFourierInPlace(new Float64Array(8), new Float64Array(4))).toThrow();
		expect(nextPowerOfTwo(256)).toBe(256);
		expect(nextPowerOfTwo(257)).toBe(512);
	});
});

describe('computePowerSpectrum', () => {
	test('a sine of amplitude A has power A²/2 at its frequency', () => {
		// 0.1 Hz sampled at 4 Hz for 64 s, on a slope and an offset the detrend must remove.
		const samples = Array.from(
			{ length: 256 },
			(_, i) => 900 + 0.5 * i + 100 * Math.sin(2 * Math.PI * 0.1 * (i / 4))
		);
		const spectrum = computePowerSpectrum(samples, 4);
		expect(spectrum.binHz).toBeCloseTo(1 / 64, 12);
		const total = integrateBand(spectrum, 0, 2);
		expect(total).toBeGreaterThan(5000 * 0.95);
		expect(total).toBeLessThan(5000 * 1.05);
		// Nearly all of it within ±0.03 Hz of the tone.
		expect(integrateBand(spectrum, 0.07, 0.13) / total).toBeGreaterThan(0.97);
	});

	test('zero-padding keeps band powers', () => {
		const random = createSeededRandom(7);
		const samples = Array.from({ length: 200 }, () => random());
		const spectrum = computePowerSpectrum(samples, 4);
		expect(spectrum.density).toHaveLength(129);
		const detrended = removeLinearTrend(samples);
		const window = detrended.map((_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 200));
		const windowed = detrended.map((x, i) => x * (window[i] as number));
		// Parseval: the whole spectrum is the windowed series' energy over the window's.
		const energy = windowed.reduce((sum, x) => sum + x * x, 0);
		const windowEnergy = window.reduce((sum, w) => sum + w * w, 0);
		expect(integrateBand(spectrum, 0, 2)).toBeCloseTo(energy / windowEnergy, 9);
	});

	test('removeLinearTrend leaves nothing of a line', () => {
		for (const x of removeLinearTrend([3, 5, 7, 9, 11])) expect(x).toBeCloseTo(0, 12);
	});
});

describe('resampleLinear', () => {
	test('interpolates between points and holds the ends', () => {
		expect(resampleLinear([1, 2, 4], [10, 20, 40], 0, 2, 10)).toEqual([
			10, 10, 10, 15, 20, 25, 30, 35, 40, 40
		]);
	});
});

describe('cleanRrIntervals', () => {
	test('drops impossible and ectopic intervals but keeps their time', () => {
		const rr = [800, 810, 790, 805, 520, 1090, 800, 795, 150, 600, 810, 2600, 800, 805];
		const cleaned = cleanRrIntervals(rr);
		expect(cleaned.ok).toBe(true);
		if (!cleaned.ok) return;
		const { intervalsMs, times, durationSeconds, dropped } = cleaned.tachogram;
		// 520/1090 is a premature beat and its pause; 150 and 2600 are impossible; 600 is the rest
		// of a double-detected beat, ectopic against its neighbours.
		expect(intervalsMs).toEqual([800, 810, 790, 805, 800, 795, 810, 800, 805]);
		expect(dropped).toBe(5);
		expect(durationSeconds).toBeCloseTo(rr.reduce((a, b) => a + b) / 1000, 12);
		// The beat after the ectopic pair ends where it really did.
		expect(times[4]).toBeCloseTo((800 + 810 + 790 + 805 + 520 + 1090 + 800) / 1000, 12);
	});

	test('keeps the crests of a strong breathing rhythm', () => {
		// ±20% sinusoidal swing, ten beats a cycle: large, but sinus rhythm.
		const rr = Array.from({ length: 60 }, (_, i) => 900 + 180 * Math.sin((2 * Math.PI * i) / 10));
		const cleaned = cleanRrIntervals(rr);
		expect(cleaned.ok && cleaned.tachogram.dropped).toBe(0);
	});

	test('refuses values that are not positive finite numbers', () => {
		expect(cleanRrIntervals([800, NaN])).toEqual({ ok: false, reason: 'invalid' });
		expect(cleanRrIntervals([800, -1])).toEqual({ ok: false, reason: 'invalid' });
	});
});
