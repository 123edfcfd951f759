import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problem, problemResponse } from '$lib/server/http/problem';
import { MonitorCommandRequestSchema, runMonitorCommand } from '$lib/server/monitor';
import { getRealtime } from '$lib/server/realtime/runtime';
import { respondStudyFailure } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/**
 * An intervention in one of the study's rooms: `{id, name, payload}` with a monitor command
 * (advance, pause, resume, end, remove a member, message). 200 `{seq}` once it is committed as a
 * room event attributed to the caller; 409 when the room refuses it, with the room's reason.
 */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, MonitorCommandRequestSchema);
	if (!body.ok) return problemResponse(body.problem);
	const result = await runMonitorCommand(
		await getDatabase(),
		getRealtime()?.hub,
		auth.user,
		params.id,
		params.roomId,
		body.data
	);
	if (result.ok) return Response.json({ seq: result.seq });
	switch (result.reason) {
		case 'room_not_found':
			return problemResponse(problem(404, 'room_not_found', 'This study has no such room.'));
		case 'unavailable':
			return problemResponse(
				problem(503, 'unavailable', 'The room could not take the command now. Try again.')
			);
		case 'rejected':
			return problemResponse(problem(409, result.code, result.message));
		case 'not_found':
		case 'forbidden':
			return respondStudyFailure(
				{ reason: result.reason },
				'Your access to this study does not allow interventions.'
			);
	}
};
