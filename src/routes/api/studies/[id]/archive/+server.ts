import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problemResponse } from '$lib/server/http/problem';
import { respondStudyFailure, setStudyArchived } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** Archives a study: it leaves the default list (owners and admins). */
export const POST: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await setStudyArchived(await getDatabase(), auth.user, params.id, true);
	if (!result.ok) return respondStudyFailure(result);
	return Response.json({ archived: true });
};
