import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problem, problemResponse } from '$lib/server/http/problem';
import { formGroupManually, ManualMatchRequestSchema } from '$lib/server/monitor';
import { respondStudyFailure } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/**
 * "Form a group from those waiting now": `{participantIds}` → one new room with them (201). 409
 * when some are no longer waiting, belong to different versions, or the roles cannot fit.
 */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, ManualMatchRequestSchema);
	if (!body.ok) return problemResponse(body.problem);
	const result = await formGroupManually(
		await getDatabase(),
		auth.user,
		params.id,
		body.data,
		new Date()
	);
	if (result.ok) return Response.json(result.group, { status: 201 });
	switch (result.reason) {
		case 'not_waiting':
			return problemResponse({
				...problem(409, 'not_waiting', 'Some of them are no longer waiting.'),
				issues: result.participantIds.map((id) => ({ path: 'participantIds', message: id }))
			});
		case 'mixed_versions':
			return problemResponse(
				problem(409, 'mixed_versions', 'A group runs one version: choose waiters of one version.')
			);
		case 'roles_do_not_fit':
			return problemResponse(
				problem(409, 'roles_do_not_fit', "The study's roles cannot fill a group of this size.")
			);
		default:
			return respondStudyFailure(result, 'Your access to this study does not allow matching.');
	}
};
