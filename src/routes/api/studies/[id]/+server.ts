import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problemResponse } from '$lib/server/http/problem';
import {
	getStudyDetail,
	respondStudyFailure,
	SaveDraftBody,
	saveDraftAndCheck,
	STUDY_BODY_LIMIT_BYTES
} from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** The study: draft, revision, versions, members, recent changes, link. */
export const GET: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const study = await getStudyDetail(await getDatabase(), auth.user, params.id);
	if (!study) return respondStudyFailure({ reason: 'not_found' });
	return Response.json(study);
};

/**
 * Saves the draft `{ definition, revision }`. Answers the new revision and, for information,
 * what would still stop publishing.
 */
export const PUT: RequestHandler = async ({ locals, params, request }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, SaveDraftBody, STUDY_BODY_LIMIT_BYTES);
	if (!body.ok) return problemResponse(body.problem);
	const result = await saveDraftAndCheck(await getDatabase(), auth.user, params.id, body.data);
	if (!result.ok) return respondStudyFailure(result);
	return Response.json({
		revision: result.revision,
		updatedAt: result.updatedAt,
		issues: result.issues
	});
};
