import { json } from '@sveltejs/kit';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { issueParticipantToken } from '$lib/server/livekit/access';
import { readParticipantCookie } from '$lib/server/participants/cookies';
import type { RequestHandler } from './$types';

const noStore = { 'cache-control': 'no-store' };

/**
 * A participant's LiveKit token for their room's conversation stage (docs/LIVEKIT.md):
 * `{ url, token, roomName, identity, expiresAt }`. Authenticated by the participant cookie;
 * the Origin check in hooks refuses cross-site posts. The client asks again before
 * `expiresAt` and on every reconnect.
 */
export const POST: RequestHandler = async ({ params, cookies }) => {
	const result = await issueParticipantToken({
		db: await getDatabase(),
		config: getEnv().livekit,
		slug: params.slug,
		cookieToken: readParticipantCookie(cookies, params.slug),
		now: Date.now()
	});
	if (result.ok) return json(result.token, { headers: noStore });
	switch (result.reason) {
		case 'no_participant':
			return json({ error: 'no_participant' }, { status: 401, headers: noStore });
		case 'not_configured':
			return json(
				{
					error: 'livekit_not_configured',
					message: 'Set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.'
				},
				{ status: 503, headers: noStore }
			);
		case 'not_in_room':
			return json({ error: 'not_in_room' }, { status: 403, headers: noStore });
		case 'not_on_conversation':
			return json({ error: 'not_on_conversation' }, { status: 409, headers: noStore });
	}
};
