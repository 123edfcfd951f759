/**
 * Seeded synthetic R-R series: a mean interval modulated by sines (breathing) plus Gaussian
 * noise. Used by the tests, and meant for simulated participants (bots) that post heart data.
 */

export type RrSynthesisOptions = {
	/** How much time the series covers, seconds. */
	seconds: number;
	meanMs: number;
	/** Sine modulations of the interval, e.g. 0.1 Hz for six breaths a minute. */
	rhythms?: { hz: number; amplitudeMs: number }[];
	/** Standard deviation of independent per-beat noise, ms. */
	noiseMs?: number;
	/** Same seed, same series. */
	seed: number;
};

/**
 * Generates beats one by one, evaluating the modulation at the time each beat starts — the way
 * a breathing rhythm modulates a real heart.
 */
export function synthesizeRrIntervals(options: RrSynthesisOptions): number[] {
	const random = createSeededRandom(options.seed);
	const intervals: number[] = [];
	let elapsed = 0;
	while (elapsed < options.seconds) {
		let rr = options.meanMs;
		for (const { hz, amplitudeMs } of options.rhythms ?? []) {
			rr += amplitudeMs * Math.sin(2 * Math.PI * hz * elapsed);
		}
		rr += (options.noiseMs ?? 0) * gaussian(random);
		intervals.push(rr);
		elapsed += rr / 1000;
	}
	return intervals;
}

/** mulberry32: a small, fast, seedable generator of floats in [0, 1); not for secrets. */
export function createSeededRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** A standard normal deviate (Box–Muller). */
function gaussian(random: () => number): number {
	const u = 1 - random(); // (0, 1]: log(0) would be −∞
	return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
