import { describe, expect, test } from 'bun:test';
import { parseByteSize, parseDuration } from '../../src/lib/server/config/duration';

describe('parseDuration', () => {
	test.each([
		['250ms', 250],
		['45s', 45_000],
		['30m', 1_800_000],
		['12h', 43_200_000],
		['1d', 86_400_000],
		['1.5h', 5_400_000]
	])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));

	test.each(['', '30', 'm', '-5m', '0s', '5 minutes', '1e3s'])('rejects %p', (text) =>
		expect(parseDuration(text)).toBeUndefined()
	);
});

describe('parseByteSize', () => {
	test('units', () => {
		expect(parseByteSize('512K')).toBe(524_288);
		expect(parseByteSize('1M')).toBe(1_048_576);
		expect(parseByteSize('100')).toBe(100);
		expect(parseByteSize('2mb')).toBe(2_097_152);
		expect(parseByteSize('lots')).toBeUndefined();
		expect(parseByteSize('0')).toBeUndefined();
	});
});
