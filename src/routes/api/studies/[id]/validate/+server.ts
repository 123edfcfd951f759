import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problemResponse } from '$lib/server/http/problem';
import { respondStudyFailure, validateDraft } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** Checks the saved draft against the publish rules: `{ publishable, issues }`. */
export const POST: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await validateDraft(await getDatabase(), auth.user, params.id);
	if (!result.ok) return respondStudyFailure(result);
	return Response.json({ publishable: result.issues.length === 0, issues: result.issues });
};
