import { authorizeApi } from '$lib/server/auth/guards';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { deleteMedia, describeMedia, findMedia } from '$lib/server/media/library';
import { selectMediaStorage } from '$lib/server/media/storage';
import type { RequestHandler } from './$types';

const DELETE_STATUS = { not_found: 404, forbidden: 403, in_use: 409 } as const;

/** One item's metadata (every signed-in user). */
export const GET: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const entry = await findMedia(await getDatabase(), params.id);
	if (!entry) return problemResponse(problem(404, 'not_found', 'There is no such media item.'));
	return Response.json({ media: describeMedia(entry) });
};

/** Deletes an item (its uploader or an admin); 409 names the running studies that use it. */
export const DELETE: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals, ['admin', 'researcher']);
	if (!auth.ok) return problemResponse(auth.problem);
	const env = getEnv();
	const result = await deleteMedia(
		await getDatabase(),
		(kind) => selectMediaStorage(env, kind),
		auth.user,
		params.id
	);
	if (!result.ok) {
		if (result.reason === 'in_use') {
			const { reason: error, message, studies } = result;
			return Response.json({ error, message, studies }, { status: DELETE_STATUS.in_use });
		}
		return problemResponse(problem(DELETE_STATUS[result.reason], result.reason, result.message));
	}
	return new Response(null, { status: 204 });
};
