import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problemResponse } from '$lib/server/http/problem';
import { createSandboxRoom, NewRoomInput } from '$lib/server/rooms/rooms';
import type { RequestHandler } from './$types';

/** Creates a sandbox room `{ title? }` (researchers and admins). */
export const POST: RequestHandler = async ({ locals, request }) => {
	const auth = authorizeApi(locals, ['admin', 'researcher']);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, NewRoomInput);
	if (!body.ok) return problemResponse(body.problem);
	const room = await createSandboxRoom(await getDatabase(), auth.user.id, body.data);
	return Response.json({ room }, { status: 201 });
};
