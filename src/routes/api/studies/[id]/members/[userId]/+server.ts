import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problemResponse } from '$lib/server/http/problem';
import { respondStudyFailure, unshareStudy } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** Takes a colleague off the study (owners and admins). */
export const DELETE: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await unshareStudy(await getDatabase(), auth.user, params.id, params.userId);
	if (!result.ok) return respondStudyFailure(result);
	return new Response(null, { status: 204 });
};
