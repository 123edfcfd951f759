import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problemResponse } from '$lib/server/http/problem';
import {
	listStudyMembers,
	respondStudyFailure,
	ShareStudyBody,
	shareStudy
} from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** The owner and the colleagues the study is shared with. */
export const GET: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await listStudyMembers(await getDatabase(), auth.user, params.id);
	if (!result.ok) return respondStudyFailure(result);
	return Response.json({ owner: result.owner, members: result.members });
};

/** Shares the study `{ email, permission }`, or changes a colleague's permission. */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, ShareStudyBody);
	if (!body.ok) return problemResponse(body.problem);
	const result = await shareStudy(await getDatabase(), auth.user, params.id, body.data);
	if (!result.ok) return respondStudyFailure(result);
	return new Response(null, { status: 204 });
};
