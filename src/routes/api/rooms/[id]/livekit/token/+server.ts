import { authorizeApi } from '$lib/server/auth/guards';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { issueObserverToken } from '$lib/server/livekit/access';
import type { RequestHandler } from './$types';

const noStore = { 'cache-control': 'no-store' };

/**
 * A hidden observer's LiveKit token for a study room: `{ url, token, roomName, identity,
 * expiresAt }`. Researchers and admins (session or API token) with any access to the room's
 * study; 404 alike for a missing room and one they cannot see.
 */
export const POST: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals, ['admin', 'researcher']);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await issueObserverToken({
		db: await getDatabase(),
		config: getEnv().livekit,
		user: auth.user,
		roomId: params.id,
		now: Date.now()
	});
	if (result.ok) return Response.json(result.token, { headers: noStore });
	if (result.reason === 'not_configured') {
		return problemResponse(
			problem(
				503,
				'livekit_not_configured',
				'Set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.'
			),
			noStore
		);
	}
	return problemResponse(problem(404, 'room_not_found', 'No such room.'), noStore);
};
