/**
 * Bounded series for the dashboard's plots: samples are averaged into the bins of one grid
 * shared by every participant, so a chart gets at most `maxBins` points per line however long
 * the session, and every line lines up on the same x values (what uPlot draws). Pure.
 */

/** One observation: `x` on the grid's axis (ms, or seconds of media), `y` its value. */
export type Point = { x: number; y: number };

/** Equal bins from `start`: bin i covers [start + i·width, start + (i+1)·width). */
export type Grid = { start: number; width: number; count: number };

/** A line of a plot: null where a bin has no sample. */
export type BinnedValues = (number | null)[];

/**
 * The grid over [start, end] with at most `maxBins` bins, none narrower than `minWidth` (bins
 * finer than the sampling rate would leave every other one empty). The last bin starts at or
 * before `end`, so the end has a bin of its own; always at least one bin.
 */
export function makeGrid(start: number, end: number, maxBins: number, minWidth: number): Grid {
	const span = Math.max(0, end - start);
	const bins = Math.max(1, Math.floor(maxBins));
	const width = Math.max(minWidth, bins > 1 ? span / (bins - 1) : span, Number.EPSILON);
	const count = Math.min(bins, Math.floor(span / width) + 1);
	return { start, width, count };
}

/** The bin `x` falls into, or -1 outside the grid. The grid's end is in its last bin. */
export function binIndexOf(grid: Grid, x: number): number {
	if (!Number.isFinite(x) || x < grid.start) return -1;
	const index = Math.floor((x - grid.start) / grid.width);
	if (index < grid.count) return index;
	return x <= grid.start + grid.count * grid.width ? grid.count - 1 : -1;
}

/** The mean of the points in each bin; null for an empty bin. Non-finite values are skipped. */
export function binMeans(points: Iterable<Point>, grid: Grid): BinnedValues {
	const sums = new Float64Array(grid.count);
	const counts = new Uint32Array(grid.count);
	for (const { x, y } of points) {
		if (!Number.isFinite(y)) continue;
		const index = binIndexOf(grid, x);
		if (index < 0) continue;
		sums[index] = sums[index]! + y;
		counts[index] = counts[index]! + 1;
	}
	return Array.from(sums, (sum, i) => (counts[i] === 0 ? null : sum / counts[i]!));
}

/**
 * The mean across lines, bin by bin, over the lines that have a value there: each line (each
 * participant) weighs the same however many samples it had in the bin.
 */
export function meanAcross(lines: readonly BinnedValues[], count: number): BinnedValues {
	return Array.from({ length: count }, (_, i) => {
		let sum = 0;
		let n = 0;
		for (const line of lines) {
			const value = line[i];
			if (value === null || value === undefined) continue;
			sum += value;
			n++;
		}
		return n === 0 ? null : sum / n;
	});
}

/** The x value of each bin's start. */
export function binStarts(grid: Grid): number[] {
	return Array.from({ length: grid.count }, (_, i) => grid.start + i * grid.width);
}

/** The smallest and largest finite x, or null when there is none. */
export function rangeOf(xs: Iterable<number>): { min: number; max: number } | null {
	let min = Infinity;
	let max = -Infinity;
	for (const x of xs) {
		if (!Number.isFinite(x)) continue;
		if (x < min) min = x;
		if (x > max) max = x;
	}
	return min <= max ? { min, max } : null;
}

/** Values in a line that are not null (to tell an empty plot from a flat one). */
export function countValues(values: BinnedValues): number {
	return values.reduce<number>((n, value) => (value === null ? n : n + 1), 0);
}
