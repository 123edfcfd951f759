import { describe, expect, test } from 'bun:test';
import { computeCoherence, PEAK_SEARCH_HZ } from '../../src/lib/signals/coherence';
import { synthesizeRrIntervals } from '../../src/lib/signals/synthetic';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

/** Six breaths a minute with a little beat-to-beat noise: the textbook coherent rhythm. */
const resonant = (seed: number) =>
	synthesizeRrIntervals({
		seconds: 90,
		meanMs: 900,
		rhythms: [{ hz: 0.1, amplitudeMs: 80 }],
		noiseMs: 20,
		seed
	});
const whiteNoise = (seed: number) =>
	synthesizeRrIntervals({ seconds: 90, meanMs: 800, noiseMs: 50, seed });
/** Ordinary fast breathing (15 a minute): a weak rhythm at the top of the band, in noise. */
const quarterHertz = (seed: number) =>
	synthesizeRrIntervals({
		seconds: 90,
		meanMs: 800,
		rhythms: [{ hz: 0.25, amplitudeMs: 20 }],
		noiseMs: 20,
		seed
	});

function scoreOf(rr: number[]): number {
	const result = computeCoherence(rr);
	if (!result.ok) throw new Error(`expected a score, got ${result.reason}`);
	return result.score;
}

function medianOf(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return ((sorted[9] as number) + (sorted[10] as number)) / 2;
}

/** A premature beat every `every` beats, 35% early, and its compensatory pause. */
function insertEctopicBeats(rr: number[], every: number): number[] {
	const out = [...rr];
	for (let i = 5; i + 1 < out.length; i += every) {
		const normal = out[i] as number;
		out[i] = normal * 0.65;
		// The next beat comes as much later, so the beats after it stay where they were.
		out[i + 1] = (out[i + 1] as number) + normal * 0.35;
	}
	return out;
}

describe('computeCoherence', () => {
	test('resonant breathing at 0.1 Hz scores high, with the peak at 0.1 Hz', () => {
		for (const seed of SEEDS) {
			const result = computeCoherence(resonant(seed));
			expect(result.ok).toBe(true);
			if (!result.ok) continue;
			expect(result.score).toBeGreaterThanOrEqual(60);
			expect(result.band).toBe('high');
			expect(Math.abs(result.peakHz - 0.1)).toBeLessThanOrEqual(0.01);
			expect(result.peakPower).toBeLessThanOrEqual(result.totalPower);
			expect(result.windowSeconds).toBe(64);
		}
	});

	test('white-noise R-R scores low', () => {
		// One 64 s periodogram of noise is itself noisy, so the claim is about the typical case.
		const scores = SEEDS.map((seed) => scoreOf(whiteNoise(seed)));
		expect(medianOf(scores)).toBeLessThan(40);
		for (const score of scores) expect(score).toBeGreaterThanOrEqual(0);
	});

	test('a weak 0.25 Hz rhythm in noise scores medium-ish, always below resonant breathing', () => {
		const results = SEEDS.map((seed) => computeCoherence(quarterHertz(seed)));
		const scores = results.map((r) => (r.ok ? r.score : NaN));
		expect(medianOf(scores)).toBeGreaterThanOrEqual(35);
		expect(medianOf(scores)).toBeLessThan(60);
		SEEDS.forEach((seed, i) => expect(scores[i]).toBeLessThan(scoreOf(resonant(seed))));
		const peaks = results.map((r) => (r.ok ? r.peakHz : NaN));
		expect(Math.abs(medianOf(peaks) - 0.25)).toBeLessThanOrEqual(0.02);
	});

	test('ectopic beats barely change the score', () => {
		for (const seed of SEEDS.slice(0, 5)) {
			const clean = resonant(seed);
			const withEctopics = insertEctopicBeats(clean, 25);
			expect(Math.abs(scoreOf(withEctopics) - scoreOf(clean))).toBeLessThan(5);
		}
	});

	test('impossible intervals are dropped, not scored', () => {
		const clean = resonant(7);
		const glitched = [...clean];
		// A double detection (120 ms + the rest of the beat) and a dropout (three beats as one).
		const split = glitched[20] as number;
		glitched.splice(20, 1, 120, split - 120);
		const merged = (glitched[50] as number) + (glitched[51] as number) + (glitched[52] as number);
		glitched.splice(50, 3, merged);
		expect(merged).toBeGreaterThan(2000);
		expect(Math.abs(scoreOf(glitched) - scoreOf(clean))).toBeLessThan(5);
	});

	test('a recording shorter than the window is too short', () => {
		const short = synthesizeRrIntervals({ seconds: 40, meanMs: 900, noiseMs: 20, seed: 1 });
		expect(computeCoherence(short)).toEqual({ ok: false, reason: 'too_short' });
		expect(computeCoherence([])).toEqual({ ok: false, reason: 'too_short' });
		// …but long enough for a shorter window.
		expect(computeCoherence(short, { windowSeconds: 32 }).ok).toBe(true);
	});

	test('too few clean beats in the window is too short', () => {
		// 100 s of 2.5 s "intervals": long enough, but not one of them is a heartbeat.
		expect(computeCoherence(Array(40).fill(2500))).toEqual({ ok: false, reason: 'too_short' });
		// Every third beat ectopic (with its pause): two thirds of the beats dropped.
		const chaotic = insertEctopicBeats(resonant(3), 3);
		expect(computeCoherence(chaotic)).toEqual({ ok: false, reason: 'too_short' });
	});

	test('non-numeric, non-positive or infinite intervals and bad windows are invalid', () => {
		const good = resonant(1);
		for (const bad of [NaN, -800, 0, Infinity]) {
			expect(computeCoherence([...good, bad])).toEqual({ ok: false, reason: 'invalid' });
		}
		for (const windowSeconds of [0, 10, 1000, NaN]) {
			expect(computeCoherence(good, { windowSeconds })).toEqual({ ok: false, reason: 'invalid' });
		}
	});

	test('a perfectly steady rhythm has no coherence', () => {
		const result = computeCoherence(Array(100).fill(800));
		expect(result).toMatchObject({ ok: true, score: 0, band: 'low' });
	});

	test('only the last window counts', () => {
		// 60 s of noise, then 70 s of resonant breathing: the window sees only the latter.
		const noise = synthesizeRrIntervals({ seconds: 60, meanMs: 900, noiseMs: 60, seed: 9 });
		const coherent = synthesizeRrIntervals({
			seconds: 70,
			meanMs: 900,
			rhythms: [{ hz: 0.1, amplitudeMs: 80 }],
			seed: 9
		});
		expect(scoreOf([...noise, ...coherent])).toBeGreaterThanOrEqual(60);
		expect(scoreOf([...coherent, ...noise])).toBeLessThan(60);
	});

	test('a rhythm outside the search band is not a peak', () => {
		// Breathing at 0.3 Hz: strong, regular, but above the band the issue defines.
		const fast = synthesizeRrIntervals({
			seconds: 90,
			meanMs: 700,
			rhythms: [{ hz: 0.3, amplitudeMs: 60 }],
			noiseMs: 10,
			seed: 4
		});
		const result = computeCoherence(fast);
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.peakHz).toBeGreaterThanOrEqual(PEAK_SEARCH_HZ.low - 0.03);
		expect(result.peakHz).toBeLessThanOrEqual(PEAK_SEARCH_HZ.high + 0.03);
		expect(result.score).toBeLessThan(40);
	});
});
