import { describe, expect, test } from 'bun:test';
import {
	createRowCounter,
	percentOf,
	readFilename
} from '../../src/routes/(app)/studies/[id]/data/progress';
import type { Column, Dataset, Row } from '../../src/lib/server/export/dataset';
import { streamDataset } from '../../src/lib/server/export/formats';

const COLUMNS: Column[] = [
	{ name: 'id', type: 'integer', description: '' },
	{ name: 'text', type: 'string', description: '' },
	{ name: 'payload', type: 'json', description: '' }
];
const ROWS: Row[] = [
	{ id: 1, text: 'a\nb "c"\r\n', payload: '{"x":"{\\n"}' },
	{ id: 2, text: '{', payload: null },
	{ id: 3, text: '"quoted"', payload: '[1]' },
	{ id: 4, text: '\n{\n', payload: '{"y":"\\n{"}' }
];
const dataset: Dataset = {
	name: 'chat',
	columns: COLUMNS,
	async *batches() {
		yield ROWS.slice(0, 2);
		yield ROWS.slice(2);
	}
};

/** Feeds `bytes` in chunks of `size` and returns the count. */
function countIn(format: 'csv' | 'json' | 'ndjson', bytes: Uint8Array, size: number): number {
	const counter = createRowCounter(format);
	for (let i = 0; i < bytes.length; i += size) counter.push(bytes.subarray(i, i + size));
	return counter.rows;
}

describe('download progress', () => {
	test('counts the rows the server streams in every format, however the bytes are split', async () => {
		for (const format of ['csv', 'json', 'ndjson'] as const) {
			const bytes = new Uint8Array(
				await new Response(streamDataset(dataset, format)).arrayBuffer()
			);
			for (const size of [1, 2, 3, 7, bytes.length]) {
				expect({ format, size, rows: countIn(format, bytes, size) }).toEqual({
					format,
					size,
					rows: ROWS.length
				});
			}
		}
	});

	test('an empty export has no rows', async () => {
		const empty: Dataset = { name: 'chat', columns: COLUMNS, async *batches() {} };
		for (const format of ['csv', 'json', 'ndjson'] as const) {
			const bytes = new Uint8Array(await new Response(streamDataset(empty, format)).arrayBuffer());
			expect(countIn(format, bytes, 5)).toBe(0);
		}
	});

	test('file names and percentages', () => {
		expect(readFilename('attachment; filename="study_events_20250301T093000Z.csv"')).toBe(
			'study_events_20250301T093000Z.csv'
		);
		expect(readFilename(null)).toBeNull();
		expect(percentOf(50, 200)).toBe(25);
		expect(percentOf(300, 200)).toBe(100);
		expect(percentOf(0, 0)).toBe(100);
		expect(percentOf(5, null)).toBeNull();
	});
});
