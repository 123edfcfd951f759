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

/** CSV cells: booleans as `true`/`false` (csv-stringify's default would write 1 and empty). */
const CSV_OPTIONS = {
	record_delimiter: 'windows',
	// csv-stringify quotes a field with the record delimiter (CRLF) but not a bare LF or CR;
	// RFC 4180 readers (Excel, R) need every line break inside a field quoted.
	quoted_match: /[\r\n]/,
	cast: { boolean: (value: boolean) => (value ? 'true' : 'false') }
} as const;

/** The CSV header record. */
export function formatCsvHeader(columns: readonly Column[]): string {
	return stringify([columns.map((c) => c.name)], CSV_OPTIONS);
}

/** CSV records of a batch, fields in column order (a missing cell is empty). */
export function formatCsvRows(columns: readonly Column[], rows: readonly Row[]): string {
	return stringify(
		rows.map((row) => columns.map((c) => row[c.name] ?? null)),
		CSV_OPTIONS
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

/** The serializer of `format` for rows with `columns`. */
export function createSerializer(format: RowFormat, columns: readonly Column[]): RowSerializer {
	switch (format) {
		case 'csv':
			return {
				start: () => formatCsvHeader(columns),
				batch: (rows) => formatCsvRows(columns, rows),
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
	const serializer = createSerializer(format, dataset.columns);
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
