import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problemResponse } from '$lib/server/http/problem';
import {
	ImportStudyBody,
	importStudy,
	respondStudyFailure,
	STUDY_BODY_LIMIT_BYTES
} from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** Creates a draft study from an export document or a bare definition (researchers, admins). */
export const POST: RequestHandler = async ({ locals, request }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, ImportStudyBody, STUDY_BODY_LIMIT_BYTES);
	if (!body.ok) return problemResponse(body.problem);
	const result = await importStudy(await getDatabase(), auth.user, body.data);
	if (!result.ok) return respondStudyFailure(result, 'Viewers cannot import studies.');
	return Response.json({ id: result.id }, { status: 201 });
};
