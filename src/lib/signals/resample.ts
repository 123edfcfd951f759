/**
 * Even resampling of an unevenly sampled series (a tachogram has one point per beat) by linear
 * interpolation; before the first and after the last point the nearest value is held, which
 * the taper of the spectral window then fades out.
 */

/**
 * Values at `start + k / rateHz` for k = 0 … count − 1.
 * Assumes `times` is strictly increasing and non-empty, with `values` of the same length.
 */
export function resampleLinear(
	times: readonly number[],
	values: readonly number[],
	start: number,
	rateHz: number,
	count: number
): number[] {
	const out: number[] = [];
	let right = 0;
	for (let k = 0; k < count; k++) {
		const t = start + k / rateHz;
		while (right < times.length && (times[right] as number) < t) right++;
		if (right === 0) out.push(values[0] as number);
		else if (right === times.length) out.push(values[times.length - 1] as number);
		else {
			const t0 = times[right - 1] as number;
			const t1 = times[right] as number;
			const v0 = values[right - 1] as number;
			const v1 = values[right] as number;
			out.push(v0 + ((v1 - v0) * (t - t0)) / (t1 - t0));
		}
	}
	return out;
}
