/**
 * Axis and value formatting for the dashboard's charts, and the line colours. Pure, so the
 * charts and the pages' tables say the same thing.
 */

/** One line (or bar series) of a chart, aligned with the chart's x values. */
export type ChartLine = {
	label: string;
	values: (number | null)[];
	/** The group line: thicker, in the text colour. */
	emphasis?: boolean;
};

/** Seconds as `m:ss` (or `h:mm:ss`), for session time axes. */
export function formatClock(seconds: number): string {
	if (!Number.isFinite(seconds)) return '';
	const sign = seconds < 0 ? '−' : '';
	const total = Math.round(Math.abs(seconds));
	const h = Math.floor(total / 3600);
	const m = Math.floor((total % 3600) / 60);
	const s = String(total % 60).padStart(2, '0');
	return h > 0 ? `${sign}${h}:${String(m).padStart(2, '0')}:${s}` : `${sign}${m}:${s}`;
}

/** A number with at most `digits` decimals and no trailing zeros; empty for null. */
export function formatNumber(value: number | null | undefined, digits = 1): string {
	if (value === null || value === undefined || !Number.isFinite(value)) return '';
	return String(Number(value.toFixed(digits)));
}

/**
 * Colours for participants' lines: distinct in light and dark themes, and readable for the
 * common colour-vision deficiencies (Okabe–Ito). The group mean is drawn in the text colour.
 */
export const LINE_COLOURS = [
	'#0072B2',
	'#E69F00',
	'#009E73',
	'#CC79A7',
	'#56B4E9',
	'#D55E00',
	'#F0E442',
	'#999999'
] as const;

/** The colour of the `index`-th line. */
export function lineColour(index: number): string {
	return LINE_COLOURS[index % LINE_COLOURS.length]!;
}
