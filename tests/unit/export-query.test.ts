import { describe, expect, test } from 'bun:test';
import { parseDataQuery } from '../../src/lib/server/export/query';

const parseQuery = (query: string) => parseDataQuery(new URLSearchParams(query));

/** The issues of a refused query, as `path: message`. */
function issuesOf(query: string): string[] {
	const result = parseQuery(query);
	if (result.ok) throw new Error(`accepted: ${query}`);
	expect(result.problem).toMatchObject({ status: 400, error: 'invalid_query' });
	return (result.problem.issues ?? []).map((issue) => `${issue.path}: ${issue.message}`);
}

describe('data API query', () => {
	test('no parameters: everything, bots included, no external ids, formulas escaped, no format', () => {
		expect(parseQuery('')).toEqual({
			ok: true,
			query: {
				filter: { versions: null, from: null, to: null, outcomes: null, includeBots: true },
				externalIds: false,
				escapeFormulas: true,
				format: null
			}
		});
	});

	test('lists by comma or repetition, deduplicated; flags; formats', () => {
		const result = parseQuery(
			'version=2,1&version=2&outcome=completed&outcome=dropout,completed&bots=exclude&externalIds=1&escapeFormulas=0&format=ndjson'
		);
		expect(result).toEqual({
			ok: true,
			query: {
				filter: {
					versions: [1, 2],
					from: null,
					to: null,
					outcomes: ['completed', 'dropout'],
					includeBots: false
				},
				externalIds: true,
				escapeFormulas: false,
				format: 'ndjson'
			}
		});
	});

	test('a bare date covers its whole day (UTC); a date-time range is [from, to)', () => {
		const days = parseQuery('from=2025-03-01&to=2025-03-31');
		if (!days.ok) throw new Error('refused');
		expect(days.query.filter.from?.toISOString()).toBe('2025-03-01T00:00:00.000Z');
		expect(days.query.filter.to?.toISOString()).toBe('2025-04-01T00:00:00.000Z');
		const times = parseQuery('from=2025-03-01T09:30:00%2B01:00&to=2025-03-01T10:00:00.250Z');
		if (!times.ok) throw new Error('refused');
		expect(times.query.filter.from?.toISOString()).toBe('2025-03-01T08:30:00.000Z');
		expect(times.query.filter.to?.toISOString()).toBe('2025-03-01T10:00:00.250Z');
		// The same day as both ends is that one day.
		const one = parseQuery('from=2025-03-01&to=2025-03-01');
		expect(one.ok).toBe(true);
	});

	test('bad values are refused with the parameter and a reason', () => {
		expect(issuesOf('version=0')).toEqual([
			'version: must be version numbers (1, 2, …), separated by commas'
		]);
		expect(issuesOf('version=1.5')).toHaveLength(1);
		expect(issuesOf('version=,')).toEqual(['version: must name at least one value']);
		expect(issuesOf('outcome=finished')[0]).toStartWith(
			'outcome: must be outcomes among completed'
		);
		expect(issuesOf('from=yesterday')[0]).toStartWith('from: must be an ISO 8601 date');
		expect(issuesOf('from=2025-02-30')).toHaveLength(1);
		// A date-time without a zone is ambiguous.
		expect(issuesOf('to=2025-03-01T10:00:00')).toHaveLength(1);
		expect(issuesOf('bots=only')).toEqual(['bots: must be include or exclude']);
		expect(issuesOf('externalIds=yes')).toEqual(['externalIds: must be 1, 0, true or false']);
		expect(issuesOf('escapeFormulas=off')).toEqual(['escapeFormulas: must be 1, 0, true or false']);
		expect(issuesOf('format=xlsx')[0]).toStartWith(
			'format: must be one of csv, json, ndjson, psych-ds'
		);
		expect(issuesOf('from=2025-03-02&to=2025-03-01T00:00:00Z')).toEqual([
			'to: must be after `from`'
		]);
	});

	test('unknown and repeated single parameters are refused, never ignored', () => {
		expect(issuesOf('bot=exclude')[0]).toStartWith('bot: is not a parameter of this endpoint');
		expect(issuesOf('format=csv&format=json')).toEqual(['format: may be given only once']);
		expect(issuesOf(`version=${Array.from({ length: 101 }, (_, i) => i + 1).join(',')}`)).toEqual([
			'version: at most 100 values'
		]);
	});
});
