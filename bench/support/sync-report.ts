/** The tables `bun run bench:sync` prints. */
import type { Summary } from './sync-analysis';
import type { RunResult } from './sync-run';

const ms = (value: number | null | undefined, digits = 1) =>
	value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);

const seconds = (value: number | null) => (value === null ? 'never' : (value / 1000).toFixed(2));

const spread = (summary: Summary, digits = 1) =>
	`${ms(summary.p50, digits)} / ${ms(summary.p95, digits)}`;

/** A Markdown table (also readable as plain text), columns padded to line up. */
export function formatTable(header: string[], rows: string[][]): string {
	const widths = header.map((title, column) =>
		Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length))
	);
	const line = (cells: string[]) =>
		`| ${cells.map((cell, column) => cell.padEnd(widths[column] as number)).join(' | ')} |`;
	return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
		'\n'
	);
}

/** The headline figures: one row per condition and variant. */
export function formatResults(results: readonly RunResult[]): string {
	return formatTable(
		[
			'variant',
			'condition',
			'clock error p50 / p95 (ms)',
			'pairwise p50 / p95 / p99 (ms)',
			'converge after start (s)',
			'converge after seek (s)',
			'seeks per page'
		],
		results.map((result) => [
			result.variant,
			result.condition,
			result.clockErrorMs.n ? spread(result.clockErrorMs, 2) : '—',
			`${spread(result.pairwiseMs)} / ${ms(result.pairwiseMs.p99)}`,
			`${seconds(result.convergeAfterStartMs)} (smoothed ${seconds(result.smoothedConvergeAfterStartMs)})`,
			`${seconds(result.convergeAfterSeekMs)} (smoothed ${seconds(result.smoothedConvergeAfterSeekMs)})`,
			result.seeksPerPage.join(', ')
		])
	);
}

const list = (values: readonly (number | null)[], digits = 0) =>
	values.map((value) => ms(value, digits)).join(', ');

/** What else the run saw: sample sizes, start lag, the applied delays, the machine. */
export function formatDetails(results: readonly RunResult[]): string {
	return formatTable(
		[
			'variant',
			'condition',
			'clock n / bias (ms)',
			'frame pairs / max (ms)',
			'pair means (ms)',
			'|error| vs target p50 / p95 (ms)',
			'start error per page (ms)',
			'seek error per page (ms)',
			'play latency learned (ms)',
			'locked',
			'applied up; down p50 / p95 (ms)',
			'frame interval (ms)',
			'busy before / during',
			'load avg'
		],
		results.map((result) => [
			result.variant,
			result.condition,
			`${result.clockErrorMs.n} / ${ms(result.clockBiasMs, 2)}`,
			`${result.pairwiseMs.n} / ${ms(result.pairwiseMs.max)}`,
			list(result.pairMeanMs, 1),
			spread(result.targetErrorMs),
			list(result.startErrorMs),
			list(result.seekErrorMs),
			result.playLatencyMs.length ? list(result.playLatencyMs) : '—',
			result.lockedShare === null ? '—' : `${(result.lockedShare * 100).toFixed(0)} %`,
			`${spread(result.appliedUpMs)}; ${spread(result.appliedDownMs)}`,
			list(result.frameIntervalMs, 1),
			`${result.machine.busyBeforePercent.toFixed(0)} / ${result.machine.busyPercent.toFixed(0)} %`,
			result.machine.loadAverage.toFixed(2)
		])
	);
}
