/**
 * Counting rows of an export while it downloads, for the progress bar: pure, fed the bytes as
 * they arrive (a chunk may end anywhere, even inside a quoted field). The server writes CSV per
 * RFC 4180 (a line break inside a field is always quoted), and JSON and NDJSON with one row per
 * line (JSON strings escape line breaks), so rows are line ends outside quotes.
 */

export type RowFormat = 'csv' | 'json' | 'ndjson';

const QUOTE = 0x22;
const NEWLINE = 0x0a;
const BRACE = 0x7b;

export type RowCounter = {
	/** Feeds the next bytes of the body. */
	push(chunk: Uint8Array): void;
	/** Rows seen so far (data rows: the CSV header and the JSON brackets do not count). */
	readonly rows: number;
};

/** A row counter for a body in `format`. */
export function createRowCounter(format: RowFormat): RowCounter {
	let lines = 0;
	let inQuotes = false;
	let previous = -1;
	return {
		push(chunk) {
			for (const byte of chunk) {
				if (format === 'csv') {
					if (byte === QUOTE) inQuotes = !inQuotes;
					else if (byte === NEWLINE && !inQuotes) lines++;
				} else if (format === 'ndjson') {
					if (byte === NEWLINE) lines++;
				} else if (byte === BRACE && previous === NEWLINE) {
					// JSON: every row starts a line with `{`; nothing else does.
					lines++;
				}
				previous = byte;
			}
		},
		get rows() {
			return format === 'csv' ? Math.max(0, lines - 1) : lines;
		}
	};
}

/** The file name in a Content-Disposition header, or null. */
export function readFilename(disposition: string | null): string | null {
	const match = /filename="([^"]+)"/.exec(disposition ?? '');
	return match ? match[1]! : null;
}

/** Percent done (0–100) of `done` out of `total`; null when there is no total to go by. */
export function percentOf(done: number, total: number | null): number | null {
	if (total === null) return null;
	if (total <= 0) return 100;
	return Math.min(100, Math.round((done / total) * 100));
}
