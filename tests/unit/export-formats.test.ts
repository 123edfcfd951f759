import { describe, expect, test } from 'bun:test';
import { parse } from 'csv-parse/sync';
import type { Column, Dataset, Row } from '../../src/lib/server/export/dataset';
import {
	createSerializer,
	formatCsvRows,
	formatJsonRow,
	streamDataset
} from '../../src/lib/server/export/formats';

const COLUMNS: Column[] = [
	{ name: 'id', type: 'integer', description: 'id' },
	{ name: 'text', type: 'string', description: 'text' },
	{ name: 'flag', type: 'boolean', description: 'flag' },
	{ name: 'payload', type: 'json', description: 'payload' }
];

const TRICKY: Row[] = [
	{ id: 1, text: 'plain', flag: true, payload: '{"a":1}' },
	{ id: 2, text: 'comma, "quote"', flag: false, payload: '[1,2]' },
	{ id: 3, text: 'line\nbreak and\r\ncrlf and\rcr', flag: null, payload: null },
	{ id: 4, text: 'ünïcödé — ✓ 😀', flag: true, payload: '"text"' },
	{ id: 5, text: '', flag: null, payload: '{"nested":{"x":[null,true]}}' }
];

/** A dataset whose batches are counted as they are read. */
function countedDataset(batches: Row[][]): { dataset: Dataset; reads: () => number } {
	let reads = 0;
	return {
		reads: () => reads,
		dataset: {
			name: 'events',
			columns: COLUMNS,
			async *batches() {
				for (const batch of batches) {
					reads++;
					yield batch;
				}
			}
		}
	};
}

describe('export formats', () => {
	test('CSV is RFC 4180: CRLF records, quotes around commas, quotes and every line break', () => {
		const csv = createSerializer('csv', COLUMNS).start() + formatCsvRows(COLUMNS, TRICKY);
		expect(csv.startsWith('id,text,flag,payload\r\n')).toBe(true);
		expect(csv).toContain('"comma, ""quote"""');
		expect(csv).toContain('"line\nbreak and\r\ncrlf and\rcr"');
		// Outside quoted fields every record ends with CRLF, never a bare LF.
		const outside = csv.replace(/"(?:[^"]|"")*"/g, '');
		expect(outside.match(/\n/g)?.length).toBe(TRICKY.length + 1);
		expect(outside.match(/\r\n/g)?.length).toBe(TRICKY.length + 1);
		const records = parse(csv, { columns: true }) as Record<string, string>[];
		expect(records.map((r) => r.text)).toEqual(TRICKY.map((r) => String(r.text)));
		expect(records.map((r) => r.flag)).toEqual(['true', 'false', '', 'true', '']);
		expect(records[2]!.payload).toBe('');
	});

	test('CSV escapes cells a spreadsheet would run as formulas, unless told not to', () => {
		const attacks = [
			'=HYPERLINK("http://evil.example","x")',
			'+1+1',
			'-2+3',
			'@SUM(A1)',
			'\tx',
			'\rx'
		];
		const rows: Row[] = [
			...attacks.map((text, i) => ({ id: i, text, flag: null, payload: null })),
			// Numbers are numbers, also a json column holding a bare one; JSON text starts with a quote.
			{ id: -5, text: 'a-b=c', flag: null, payload: '-5' },
			{ id: 9, text: 'ok', flag: null, payload: '"=1+1"' },
			{ id: 10, text: '\uff1d1+1', flag: null, payload: '{"a":"=1"}' }
		];
		const read = (csv: string) => parse(csv, { columns: true }) as Record<string, string>[];
		const header = createSerializer('csv', COLUMNS).start();
		const escaped = read(header + formatCsvRows(COLUMNS, rows));
		expect(escaped.slice(0, attacks.length).map((r) => r.text)).toEqual(
			attacks.map((text) => `'${text}`)
		);
		expect(escaped[attacks.length]).toEqual({ id: '-5', text: 'a-b=c', flag: '', payload: '-5' });
		expect(escaped[attacks.length + 1]!.payload).toBe('"=1+1"');
		expect(escaped[attacks.length + 2]!.text).toBe("'\uff1d1+1");
		const raw = read(header + formatCsvRows(COLUMNS, rows, { escapeFormulas: false }));
		expect(raw.map((r) => r.text)).toEqual(rows.map((r) => String(r.text)));
	});

	test('JSON rows keep column order and nest json columns as values', () => {
		expect(formatJsonRow(COLUMNS, TRICKY[0]!)).toBe(
			'{"id":1,"text":"plain","flag":true,"payload":{"a":1}}'
		);
		expect(JSON.parse(formatJsonRow(COLUMNS, TRICKY[2]!))).toEqual({
			id: 3,
			text: 'line\nbreak and\r\ncrlf and\rcr',
			flag: null,
			payload: null
		});
		expect(JSON.parse(formatJsonRow(COLUMNS, { id: Number.NaN }))).toEqual({
			id: null,
			text: null,
			flag: null,
			payload: null
		});
	});

	test('JSON is one array with a row per line; NDJSON a row per line; both parse back', async () => {
		const { dataset } = countedDataset([TRICKY.slice(0, 2), [], TRICKY.slice(2)]);
		const json = await new Response(streamDataset(dataset, 'json')).text();
		expect(json.split('\n')).toHaveLength(TRICKY.length + 3);
		const parsed = JSON.parse(json) as Record<string, unknown>[];
		expect(parsed.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
		expect(parsed[4]!.payload).toEqual({ nested: { x: [null, true] } });
		const ndjson = await new Response(streamDataset(dataset, 'ndjson')).text();
		expect(
			ndjson
				.trimEnd()
				.split('\n')
				.map((line) => JSON.parse(line))
		).toEqual(parsed);
	});

	test('an empty dataset is a header (CSV), [] (JSON) or nothing (NDJSON)', async () => {
		const { dataset } = countedDataset([]);
		expect(await new Response(streamDataset(dataset, 'csv')).text()).toBe(
			'id,text,flag,payload\r\n'
		);
		expect(JSON.parse(await new Response(streamDataset(dataset, 'json')).text())).toEqual([]);
		expect(await new Response(streamDataset(dataset, 'ndjson')).text()).toBe('');
	});

	test('the stream reads a batch only when the reader wants one (backpressure)', async () => {
		const batches = Array.from({ length: 50 }, (_, i) => [{ id: i, text: 'x'.repeat(1000) }]);
		const { dataset, reads } = countedDataset(batches);
		let done = -1;
		const reader = streamDataset(dataset, 'ndjson', {
			onDone: (rows) => (done = rows)
		}).getReader();
		await Bun.sleep(20);
		// Nothing is read before the first pull beyond the one chunk the queue holds.
		expect(reads()).toBeLessThanOrEqual(1);
		for (let i = 0; i < 10; i++) await reader.read();
		await Bun.sleep(20);
		expect(reads()).toBeLessThanOrEqual(11);
		expect(done).toBe(-1);
		for (let next = await reader.read(); !next.done; next = await reader.read());
		expect(reads()).toBe(50);
		expect(done).toBe(50);
	});

	test('cancelling stops the reads; a failing read errors the stream and is reported', async () => {
		const { dataset, reads } = countedDataset(Array.from({ length: 100 }, (_, i) => [{ id: i }]));
		const reader = streamDataset(dataset, 'csv').getReader();
		await reader.read();
		await reader.read();
		await reader.cancel();
		const after = reads();
		await Bun.sleep(20);
		expect(reads()).toBe(after);
		expect(after).toBeLessThan(5);

		let reported: unknown = null;
		const failing: Dataset = {
			name: 'events',
			columns: COLUMNS,
			// eslint-disable-next-line require-yield
			async *batches() {
				throw new Error('database went away');
			}
		};
		const stream = streamDataset(failing, 'csv', { onError: (error) => (reported = error) });
		await expect(new Response(stream).text()).rejects.toThrow('database went away');
		await Bun.sleep(10);
		expect((reported as Error).message).toBe('database went away');
	});
});
