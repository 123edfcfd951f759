import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problem, problemResponse } from '$lib/server/http/problem';
import { issueRoomTicket, TicketInput } from '$lib/server/rooms/rooms';
import type { RequestHandler } from './$types';

/** Mints a one-minute ticket `{ actor?, role? }` to open this room's socket (researchers, admins). */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	const auth = authorizeApi(locals, ['admin', 'researcher']);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, TicketInput);
	if (!body.ok) return problemResponse(body.problem);
	const result = await issueRoomTicket(
		await getDatabase(),
		auth.user,
		params.id,
		body.data,
		Date.now()
	);
	if (!result.ok && result.reason === 'observer_only') {
		return problemResponse(
			problem(403, 'observer_only', 'You can view this study: observer tickets only.')
		);
	}
	if (!result.ok) return problemResponse(problem(404, 'room_not_found', 'No such room.'));
	return Response.json(result.issued, { status: 201 });
};
