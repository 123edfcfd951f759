import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problemResponse } from '$lib/server/http/problem';
import { duplicateStudy, respondStudyFailure } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** Copies the draft into a new study owned by the caller (researchers and admins). */
export const POST: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await duplicateStudy(await getDatabase(), auth.user, params.id);
	if (!result.ok) return respondStudyFailure(result, 'Viewers cannot create studies.');
	return Response.json({ id: result.id }, { status: 201 });
};
