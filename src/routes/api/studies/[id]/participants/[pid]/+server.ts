import * as v from 'valibot';
import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import {
	eraseParticipant,
	exportParticipantData,
	ParticipantId,
	respondPrivacyFailure
} from '$lib/server/privacy';
import type { RequestHandler } from './$types';

const invalidId = () =>
	problemResponse(problem(404, 'participant_not_found', 'No such participant in this study.'));

/** Everything stored about one participant, as a JSON download (data permission; audited). */
export const GET: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	if (!v.is(ParticipantId, params.pid)) return invalidId();
	const result = await exportParticipantData(await getDatabase(), params.id, params.pid, auth.user);
	if (!result.ok) return respondPrivacyFailure(result);
	return new Response(result.body, {
		headers: {
			'content-type': 'application/json; charset=utf-8',
			'content-disposition': `attachment; filename="${result.filename}"`,
			'cache-control': 'no-store'
		}
	});
};

/**
 * Erases the participant: rows deleted, their content in room events redacted; 409 while
 * their room runs. Answers what was removed (data permission; audited).
 */
export const DELETE: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	if (!v.is(ParticipantId, params.pid)) return invalidId();
	const result = await eraseParticipant(await getDatabase(), params.id, params.pid, auth.user);
	if (!result.ok) return respondPrivacyFailure(result);
	return Response.json({ erased: result.counts });
};
