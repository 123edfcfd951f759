import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problemResponse } from '$lib/server/http/problem';
import { respondStudyFailure, setStudyStatus } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** Closes a live or paused study; only publishing opens it again. */
export const POST: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await setStudyStatus(await getDatabase(), auth.user, params.id, 'close');
	if (!result.ok) return respondStudyFailure(result);
	return Response.json({ status: result.status });
};
