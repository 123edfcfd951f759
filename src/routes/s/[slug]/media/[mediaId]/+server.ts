import { json } from '@sveltejs/kit';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { serveMediaEntry } from '$lib/server/media/serve';
import { readParticipantCookie } from '$lib/server/participants/cookies';
import { findParticipantMedia } from '$lib/server/participants/media-access';
import type { RequestHandler } from './$types';

// Refusals depend on the cookie: never let a cache keep one.
const noStore = { 'cache-control': 'no-store' };

/**
 * The bytes of a media item of the participant's own study version, as the library route
 * serves them (ranges, ETag, 304). Authenticated by the study cookie, which is only sent under
 * `/s/<slug>`; GET and HEAD need no Origin check.
 */
async function serveParticipantMedia(
	event: Parameters<RequestHandler>[0],
	withBody: boolean
): Promise<Response> {
	const { params, cookies, request } = event;
	const result = await findParticipantMedia(
		await getDatabase(),
		params.slug,
		readParticipantCookie(cookies, params.slug),
		params.mediaId
	);
	if (!result.ok) {
		return result.reason === 'no_participant'
			? json({ error: 'no_participant' }, { status: 401, headers: noStore })
			: json({ error: 'not_found' }, { status: 404, headers: noStore });
	}
	return serveMediaEntry(result.item, request, { withBody, env: getEnv() });
}

export const GET: RequestHandler = (event) => serveParticipantMedia(event, true);

export const HEAD: RequestHandler = (event) => serveParticipantMedia(event, false);
