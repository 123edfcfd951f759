import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problem, problemResponse } from '$lib/server/http/problem';
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

/**
 * Shares the study `{ email, permission, dataAccess? }`, or changes a colleague's permission;
 * `dataAccess` grants or revokes the data permission (left out: unchanged).
 */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, ShareStudyBody);
	if (!body.ok) return problemResponse(body.problem);
	const result = await shareStudy(await getDatabase(), auth.user, params.id, body.data);
	if (!result.ok) {
		if (result.reason !== 'viewer_account') return respondStudyFailure({ reason: result.reason });
		return problemResponse(
			problem(
				400,
				'viewer_account',
				'Accounts with the viewer role cannot get the data permission; change their role first.'
			)
		);
	}
	return new Response(null, { status: 204 });
};
