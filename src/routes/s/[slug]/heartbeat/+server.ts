import { json } from '@sveltejs/kit';
import { getDatabase } from '$lib/server/db';
import { readParticipantCookie } from '$lib/server/participants/cookies';
import { findLinkParticipant } from '$lib/server/participants/journey';
import { beatWaitingRoom } from '$lib/server/participants/waiting-room';
import type { RequestHandler } from './$types';

/**
 * The waiting page's heartbeat (every 5 s): keeps the participant counted as present and
 * answers the room's state. Authenticated by the participant cookie (scoped to this study's
 * path); the Origin check in hooks refuses cross-site posts.
 */
export const POST: RequestHandler = async ({ params, cookies }) => {
	const db = await getDatabase();
	const participant = await findLinkParticipant(
		db,
		params.slug,
		readParticipantCookie(cookies, params.slug)
	);
	if (!participant) return json({ error: 'no_participant' }, { status: 401 });
	return json(await beatWaitingRoom(db, participant, new Date()), {
		headers: { 'cache-control': 'no-store' }
	});
};
