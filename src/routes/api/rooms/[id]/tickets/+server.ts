import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problem, problemResponse } from '$lib/server/http/problem';
import { issueRoomTicket, TicketInput } from '$lib/server/rooms/rooms';
import type { RequestHandler } from './$types';

/**
 * Mints a 30-second, single-use ticket `{ role?: 'observer', guest? }` to open this room's
 * socket (researchers, admins). The server assigns the identity: the caller themself in a study
 * room, a pseudonymous guest in a sandbox room. The ticket is bound to this session or API token.
 */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	const auth = authorizeApi(locals, ['admin', 'researcher']);
	if (!auth.ok) return problemResponse(auth.problem);
	const credential = locals.session
		? { kind: 'session' as const, id: locals.session.id }
		: locals.apiTokenId
			? { kind: 'token' as const, id: locals.apiTokenId }
			: null;
	if (!credential) return problemResponse(problem(401, 'unauthenticated', 'Sign in first.'));
	const body = await readJsonBody(request, TicketInput);
	if (!body.ok) return problemResponse(body.problem);
	const result = await issueRoomTicket(
		await getDatabase(),
		auth.user,
		credential,
		params.id,
		body.data,
		Date.now()
	);
	if (!result.ok && result.reason === 'invalid_guest') {
		return problemResponse(problem(422, 'invalid_guest', result.message));
	}
	if (!result.ok) return problemResponse(problem(404, 'room_not_found', 'No such room.'));
	return Response.json(result.issued, { status: 201 });
};
