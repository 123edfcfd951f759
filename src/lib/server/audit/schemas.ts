import * as v from 'valibot';

/** The audit log's page: `?before=<id>&limit=…`, newest first (keyset on the entry id). */
export const AuditPageQuery = v.object({
	before: v.optional(
		v.pipe(
			v.string(),
			v.regex(/^[1-9]\d{0,15}$/, 'The page cursor must be an audit entry id.'),
			v.transform(Number)
		)
	),
	limit: v.pipe(
		v.optional(v.string(), '50'),
		v.regex(/^\d{1,4}$/, 'The limit must be a whole number.'),
		v.transform(Number),
		v.minValue(1, 'The limit must be at least 1.'),
		v.maxValue(200, 'The limit is at most 200.')
	)
});
export type AuditPageQuery = v.InferOutput<typeof AuditPageQuery>;
