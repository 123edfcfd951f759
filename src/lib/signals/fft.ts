/**
 * An in-place iterative radix-2 FFT. Why not a direct DFT over just the bins below 0.4 Hz: at
 * the default window (64 s at 4 Hz = 256 samples, already a power of two) both are cheap, but the
 * FFT costs the same whatever band is asked for, stays O(N log N) if longer windows are
 * configured, and is only ~30 lines; the unit tests check it against a direct DFT.
 */

/** Whether `n` is a positive power of two. */
export function isPowerOfTwo(n: number): boolean {
	return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** The smallest power of two ≥ `n` (n ≥ 1). */
export function nextPowerOfTwo(n: number): number {
	let size = 1;
	while (size < n) size *= 2;
	return size;
}

/**
 * Replaces (re, im) by their discrete Fourier transform X_k = Σ x_n e^(−2πikn/N).
 * Both arrays must have the same power-of-two length; anything else throws, since it is a
 * programming error, not an expected outcome.
 */
export function transformFourierInPlace(re: Float64Array, im: Float64Array): void {
	const n = re.length;
	if (im.length !== n || !isPowerOfTwo(n)) {
		throw new RangeError(`FFT needs two arrays of one power-of-two length, got ${n}/${im.length}`);
	}
	// Bit-reversal permutation, so the butterflies below can work in place.
	for (let i = 1, j = 0; i < n; i++) {
		let bit = n >> 1;
		for (; j & bit; bit >>= 1) j ^= bit;
		j ^= bit;
		if (i < j) {
			[re[i], re[j]] = [re[j] as number, re[i] as number];
			[im[i], im[j]] = [im[j] as number, im[i] as number];
		}
	}
	for (let size = 2; size <= n; size *= 2) {
		const angle = (-2 * Math.PI) / size;
		const half = size / 2;
		for (let start = 0; start < n; start += size) {
			for (let k = 0; k < half; k++) {
				// Twiddles from cos/sin directly rather than by repeated multiplication: no drift.
				const wr = Math.cos(angle * k);
				const wi = Math.sin(angle * k);
				const a = start + k;
				const b = a + half;
				const br = re[b] as number;
				const bi = im[b] as number;
				const tr = br * wr - bi * wi;
				const ti = br * wi + bi * wr;
				re[b] = (re[a] as number) - tr;
				im[b] = (im[a] as number) - ti;
				re[a] = (re[a] as number) + tr;
				im[a] = (im[a] as number) + ti;
			}
		}
	}
}
