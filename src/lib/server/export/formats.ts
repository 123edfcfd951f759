/**
 * Serialising a dataset: CSV (UTF-8, RFC 4180: CRLF records, a header, fields with commas,
 * quotes or line breaks quoted; written by csv-stringify), JSON (one array of row objects) and
 * NDJSON (one row object per line). Each batch becomes one chunk of a pull-based
 * ReadableStream: the next batch is read from the database only when the consumer has taken
 * the previous chunk, so a slow download slows the reads instead of filling memory.
 */
import { stringify } from 'csv-stringify/sync';
import type { Cell, Column, Dataset, Row } from './dataset';

/** The formats a single dataset can be written in (the Psych-DS bundle is a zip of them all). */
export const ROW_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];

export const CONTENT_TYPES: Record<RowFormat, string> = {
	csv: 'text/csv; charset=utf-8; header=present',
	json: 'application/json; charset=utf-8',
	ndjson: 'application/x-ndjson; charset=utf-8'
};

/**
 * How CSV cells are written. A cell a spreadsheet would run as a formula — text starting with
 * `=`, `+`, `-`, `@`, a tab or a carriage return (or their full-width forms) — gets a leading
 * `'` (OWASP's advice against CSV injection; csv-stringify's `escape_formulas`), so a
 * participant's `=HYPERLINK(…)` shows as text. On unless an analysis pipeline asks for the
 * raw text (`escapeFormulas=0`). Numbers are never escaped: `-5` is a number, not a formula.
 */
export type CsvOptions = { escapeFormulas: boolean };

/** What every CSV the app writes uses unless the caller asks otherwise. */
export const DEFAULT_CSV_OPTIONS: CsvOptions = { escapeFormulas: true };

/** csv-stringify's options: booleans as `true`/`false` (its default would write 1 and empty). */
function stringifyOptions(options: CsvOptions) {
	return {
		record_delimiter: 'windows',
		// csv-stringify quotes a field with the record delimiter (CRLF) but not a bare LF or CR;
		// RFC 4180 readers (Excel, R) need every line break inside a field quoted.
		quoted_match: /[\r\n]/,
		escape_formulas: options.escapeFormulas,
		cast: { boolean: (value: boolean) => (value ? 'true' : 'false') }
	} as const;
}

/** A JSON number's text, e.g. `-0.5` or `1e+21`. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * A cell as CSV receives it. A json column holding a bare number (`-5`) passes it as the number
 * it is, so formula escaping leaves it alone like any other number.
 */
function toCsvCell(column: Column, cell: Cell | undefined): Cell {
	if (cell === undefined) return null;
	if (column.type === 'json' && typeof cell === 'string' && JSON_NUMBER.test(cell)) {
		const number = Number(cell);
		if (String(number) === cell) return number;
	}
	return cell;
}

/** The CSV header record. */
export function formatCsvHeader(
	columns: readonly Column[],
	options: CsvOptions = DEFAULT_CSV_OPTIONS
): string {
	return stringify([columns.map((c) => c.name)], stringifyOptions(options));
}

/** CSV records of a batch, fields in column order (a missing cell is empty). */
export function formatCsvRows(
	columns: readonly Column[],
	rows: readonly Row[],
	options: CsvOptions = DEFAULT_CSV_OPTIONS
): string {
	return stringify(
		rows.map((row) => columns.map((c) => toCsvCell(c, row[c.name]))),
		stringifyOptions(options)
	);
}

/** One cell as JSON: a `json` column's text is inserted as the value it encodes. */
function formatJsonCell(column: Column, cell: Cell | undefined): string {
	if (cell === null || cell === undefined) return 'null';
	if (column.type === 'json' && typeof cell === 'string') return cell;
	if (typeof cell === 'number' && !Number.isFinite(cell)) return 'null';
	return JSON.stringify(cell);
}

/** One row as a JSON object with keys in column order. */
export function formatJsonRow(columns: readonly Column[], row: Row): string {
	const fields = columns.map((c) => `${JSON.stringify(c.name)}:${formatJsonCell(c, row[c.name])}`);
	return `{${fields.join(',')}}`;
}

/** Turns a stream of row batches into text chunks of one format. */
export type RowSerializer = {
	start(): string;
	batch(rows: readonly Row[]): string;
	end(): string;
};

/** The serializer of `format` for rows with `columns` (`csv` options apply to CSV only). */
export function createSerializer(
	format: RowFormat,
	columns: readonly Column[],
	csv: CsvOptions = DEFAULT_CSV_OPTIONS
): RowSerializer {
	switch (format) {
		case 'csv':
			return {
				start: () => formatCsvHeader(columns, csv),
				batch: (rows) => formatCsvRows(columns, rows, csv),
				end: () => ''
			};
		case 'ndjson':
			return {
				start: () => '',
				batch: (rows) => rows.map((row) => `${formatJsonRow(columns, row)}\n`).join(''),
				end: () => ''
			};
		case 'json': {
			// One row per line, so the file reads well and a reader can count rows by lines.
			let first = true;
			return {
				start: () => '[',
				batch: (rows) => {
					const text = rows
						.map((row, i) => `${first && i === 0 ? '\n' : ',\n'}${formatJsonRow(columns, row)}`)
						.join('');
					if (rows.length > 0) first = false;
					return text;
				},
				end: () => (first ? ']\n' : '\n]\n')
			};
		}
	}
}

export type StreamOptions = {
	/** How CSV cells are written (formula escaping on by default). */
	csv?: CsvOptions;
	/** Called once the last chunk is enqueued, with the rows written; not on failure or cancel. */
	onDone?: (rows: number) => void;
	/** Called when reading or serialising fails (the stream errors after it). */
	onError?: (error: unknown) => void;
};

/**
 * Streams `dataset` in `format`. Pull-based with a queue of one chunk: each pull reads one
 * batch. Cancelling (the client went away) stops the reads.
 */
export function streamDataset(
	dataset: Dataset,
	format: RowFormat,
	options: StreamOptions = {}
): ReadableStream<Uint8Array> {
	const serializer = createSerializer(format, dataset.columns, options.csv);
	const encoder = new TextEncoder();
	let iterator: AsyncIterator<Row[]> | null = null;
	let rows = 0;
	return new ReadableStream<Uint8Array>(
		{
			start(controller) {
				const head = serializer.start();
				if (head) controller.enqueue(encoder.encode(head));
			},
			async pull(controller) {
				try {
					iterator ??= dataset.batches()[Symbol.asyncIterator]();
					// Skip empty batches so every pull enqueues something (or ends the stream).
					for (;;) {
						const next = await iterator.next();
						if (next.done) {
							const tail = serializer.end();
							if (tail) controller.enqueue(encoder.encode(tail));
							controller.close();
							options.onDone?.(rows);
							return;
						}
						if (next.value.length === 0) continue;
						rows += next.value.length;
						controller.enqueue(encoder.encode(serializer.batch(next.value)));
						return;
					}
				} catch (error) {
					options.onError?.(error);
					controller.error(error);
				}
			},
			async cancel() {
				await iterator?.return?.();
			}
		},
		{ highWaterMark: 1 }
	);
}
