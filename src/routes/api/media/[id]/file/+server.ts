import { authorizeApi } from '$lib/server/auth/guards';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { findMedia } from '$lib/server/media/library';
import { serveMediaEntry } from '$lib/server/media/serve';
import type { RequestHandler } from './$types';

/**
 * The bytes of an item for signed-in users (session or API token). Participants have their
 * own, narrower way in: `/s/<slug>/media/<mediaId>`.
 */
async function serveLibraryMedia(
	locals: App.Locals,
	id: string,
	request: Request,
	withBody: boolean
): Promise<Response> {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const entry = await findMedia(await getDatabase(), id);
	if (!entry) return problemResponse(problem(404, 'not_found', 'There is no such media item.'));
	return serveMediaEntry(entry, request, { withBody, env: getEnv() });
}

export const GET: RequestHandler = ({ locals, params, request }) =>
	serveLibraryMedia(locals, params.id, request, true);

export const HEAD: RequestHandler = ({ locals, params, request }) =>
	serveLibraryMedia(locals, params.id, request, false);
