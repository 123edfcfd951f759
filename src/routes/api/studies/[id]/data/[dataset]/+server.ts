import * as v from 'valibot';
import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import {
	DATASETS,
	openBundleExport,
	openDatasetExport,
	parseDataQuery,
	respondDownload,
	respondExportFailure
} from '$lib/server/export';
import { problem, problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/** A dataset name, or `all` for the Psych-DS bundle of every dataset. */
const TargetSchema = v.picklist([...DATASETS, 'all']);

/**
 * One dataset streamed as `format` (csv, json, ndjson; default csv), or `all` as a Psych-DS
 * zip, filtered by the query (docs/DATA.md). `externalIds=1` needs the data permission.
 */
export const GET: RequestHandler = async ({ locals, params, url }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const target = v.safeParse(TargetSchema, params.dataset);
	if (!target.success) {
		return problemResponse(
			problem(404, 'unknown_dataset', `There is no such dataset. Use one of ${DATASETS.join(', ')}, or all.`)
		);
	}
	const query = parseDataQuery(url.searchParams);
	if (!query.ok) return problemResponse(query.problem);
	const db = await getDatabase();
	const result =
		target.output === 'all'
			? await openBundleExport(db, auth.user, params.id, query.query)
			: await openDatasetExport(db, auth.user, params.id, target.output, query.query);
	return result.ok ? respondDownload(result) : respondExportFailure(result);
};
