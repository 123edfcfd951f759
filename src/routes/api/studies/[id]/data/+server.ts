import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { countExportRows, parseDataQuery, respondExportFailure } from '$lib/server/export';
import { problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/**
 * How many rows each dataset has with the filter in the query (`version`, `from`, `to`,
 * `outcome`, `bots`): what the Data page's progress bars count towards, and a check for scripts.
 */
export const GET: RequestHandler = async ({ locals, params, url }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const query = parseDataQuery(url.searchParams);
	if (!query.ok) return problemResponse(query.problem);
	const result = await countExportRows(await getDatabase(), auth.user, params.id, query.query);
	if (!result.ok) return respondExportFailure(result);
	return Response.json(
		{ counts: result.counts, filter: result.filter },
		{ headers: { 'cache-control': 'no-store' } }
	);
};
