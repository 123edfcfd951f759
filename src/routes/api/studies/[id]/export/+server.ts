import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { exportStudy, parseExportVersion, respondStudyFailure } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** Downloads the draft, or `?version=N`, as an `ensemble-study` JSON file. */
export const GET: RequestHandler = async ({ locals, params, url }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const version = parseExportVersion(url.searchParams.get('version'));
	if (!version.ok) {
		return problemResponse(
			problem(400, 'invalid_version', 'The version must be a positive whole number.')
		);
	}
	const result = await exportStudy(await getDatabase(), auth.user, params.id, version.version);
	if (!result.ok) return respondStudyFailure(result);
	// Indented, so exports diff well under version control.
	return new Response(`${JSON.stringify(result.document, null, 2)}\n`, {
		headers: {
			'content-type': 'application/json; charset=utf-8',
			'content-disposition': `attachment; filename="${result.filename}"`
		}
	});
};
