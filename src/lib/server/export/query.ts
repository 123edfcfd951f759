/**
 * The query string of the data API, validated with valibot: every parameter known, every value
 * checked, each problem named (`issues[].path` is the parameter). Dates follow ISO 8601; a
 * date without a time covers its whole day (UTC), so `from=2025-03-01&to=2025-03-31` is all
 * of March; a date-time range is [from, to).
 */
import * as v from 'valibot';
import { OUTCOMES, type Outcome } from '../../study';
import { problem, type Problem } from '../http/problem';
import { describeIssues } from '../http/json-body';
import { EXPORT_FORMATS, type ExportFilter, type ExportFormat } from './dataset';

/** Parameters that may be given more than once (their values are joined, as with commas). */
const LIST_PARAMS = ['version', 'outcome'] as const;
const SINGLE_PARAMS = ['from', 'to', 'bots', 'externalIds', 'escapeFormulas', 'format'] as const;
const KNOWN = new Set<string>([...LIST_PARAMS, ...SINGLE_PARAMS]);

/** More versions or outcomes than this in one filter is no filter a person wrote. */
const MAX_LIST_ITEMS = 100;
const DAY_MS = 86_400_000;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A comma-separated list, without empty items. */
const List = v.pipe(
	v.string(),
	v.maxLength(2000),
	v.transform((text) =>
		text
			.split(',')
			.map((item) => item.trim())
			.filter((item) => item !== '')
	),
	v.minLength(1, 'must name at least one value'),
	v.maxLength(MAX_LIST_ITEMS, `at most ${MAX_LIST_ITEMS} values`)
);

const VersionList = v.pipe(
	List,
	v.check(
		(items) => items.every((item) => /^[1-9]\d{0,8}$/.test(item)),
		'must be version numbers (1, 2, …), separated by commas'
	),
	v.transform((items) => [...new Set(items.map(Number))].sort((a, b) => a - b))
);

const OutcomeList = v.pipe(
	List,
	v.check(
		(items) => items.every((item) => (OUTCOMES as readonly string[]).includes(item)),
		`must be outcomes among ${OUTCOMES.join(', ')}`
	),
	v.transform((items) => [...new Set(items)] as Outcome[])
);

/** Whether the date part names a real day (Date.parse takes 2025-02-30 as March 2). */
function isRealDay(text: string): boolean {
	const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
	const date = new Date(Date.UTC(year, month - 1, day));
	return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** A point in time; `end` turns a bare date into the start of the next day. */
function moment(end: boolean) {
	return v.pipe(
		v.string(),
		v.check(
			(text) =>
				(DATE.test(text) || DATE_TIME.test(text)) &&
				isRealDay(text) &&
				!Number.isNaN(Date.parse(text)),
			'must be an ISO 8601 date (2025-03-01) or date-time with a time zone (2025-03-01T09:30:00Z)'
		),
		v.transform((text) => {
			const time = Date.parse(DATE.test(text) ? `${text}T00:00:00Z` : text);
			return new Date(DATE.test(text) && end ? time + DAY_MS : time);
		})
	);
}

const Flag = v.picklist(['1', '0', 'true', 'false'], 'must be 1, 0, true or false');

const QuerySchema = v.pipe(
	v.object({
		version: v.optional(VersionList),
		outcome: v.optional(OutcomeList),
		from: v.optional(moment(false)),
		to: v.optional(moment(true)),
		bots: v.optional(v.picklist(['include', 'exclude'], 'must be include or exclude'), 'include'),
		externalIds: v.optional(Flag, '0'),
		escapeFormulas: v.optional(Flag, '1'),
		format: v.optional(v.picklist(EXPORT_FORMATS, `must be one of ${EXPORT_FORMATS.join(', ')}`))
	}),
	v.forward(
		v.check(
			(query) => !query.from || !query.to || query.from.getTime() < query.to.getTime(),
			'must be after `from`'
		),
		['to']
	)
);

export type DataQuery = {
	filter: ExportFilter;
	externalIds: boolean;
	/**
	 * CSV cells that a spreadsheet would run as formulas get a leading `'` (default); false
	 * writes them raw, for analysis pipelines. CSV and the Psych-DS bundle only.
	 */
	escapeFormulas: boolean;
	/** Null when the request did not say (each endpoint has its default). */
	format: ExportFormat | null;
};

export type DataQueryResult = { ok: true; query: DataQuery } | { ok: false; problem: Problem };

function invalid(issues: NonNullable<Problem['issues']>): DataQueryResult {
	return {
		ok: false,
		problem: {
			...problem(400, 'invalid_query', 'Some query parameters are not valid.'),
			issues
		}
	};
}

/**
 * Parses the data API's query: `version`, `outcome` (comma-separated, or repeated), `from`,
 * `to`, `bots` (include | exclude), `externalIds` (1 | 0), `escapeFormulas` (1 | 0) and `format`. Unknown or repeated
 * single parameters are refused, so a typo never silently widens an export.
 */
export function parseDataQuery(params: URLSearchParams): DataQueryResult {
	const raw: Record<string, string> = {};
	const issues: NonNullable<Problem['issues']> = [];
	for (const name of new Set(params.keys())) {
		const values = params.getAll(name);
		if (!KNOWN.has(name)) {
			issues.push({
				path: name,
				message: `is not a parameter of this endpoint (known: ${[...KNOWN].join(', ')})`
			});
		} else if ((LIST_PARAMS as readonly string[]).includes(name)) {
			raw[name] = values.join(',');
		} else if (values.length > 1) {
			issues.push({ path: name, message: 'may be given only once' });
		} else {
			raw[name] = values[0]!;
		}
	}
	if (issues.length > 0) return invalid(issues);
	const parsed = v.safeParse(QuerySchema, raw);
	if (!parsed.success) return invalid(describeIssues(parsed.issues));
	const query = parsed.output;
	return {
		ok: true,
		query: {
			filter: {
				versions: query.version ?? null,
				from: query.from ?? null,
				to: query.to ?? null,
				outcomes: query.outcome ?? null,
				includeBots: query.bots === 'include'
			},
			externalIds: query.externalIds === '1' || query.externalIds === 'true',
			escapeFormulas: query.escapeFormulas === '1' || query.escapeFormulas === 'true',
			format: query.format ?? null
		}
	};
}

/** The filter as the audit log and the API echo it (dates as ISO text). */
export function describeFilter(filter: ExportFilter): Record<string, unknown> {
	return {
		versions: filter.versions,
		from: filter.from?.toISOString() ?? null,
		to: filter.to?.toISOString() ?? null,
		outcomes: filter.outcomes,
		bots: filter.includeBots ? 'include' : 'exclude'
	};
}
