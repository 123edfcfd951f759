import { getDatabase } from '$lib/server/db';
import { readParticipantCookie } from '$lib/server/participants/cookies';
import { findLinkParticipant } from '$lib/server/participants/journey';
import { leaveWaitingRoomByBeacon } from '$lib/server/participants/waiting-room';
import type { RequestHandler } from './$types';

/**
 * The waiting page's `pagehide` beacon: the participant closed the tab (or is reloading; the
 * next heartbeat queues them again). 204 either way, since nobody reads a beacon's answer.
 */
export const POST: RequestHandler = async ({ params, cookies }) => {
	const db = await getDatabase();
	const participant = await findLinkParticipant(
		db,
		params.slug,
		readParticipantCookie(cookies, params.slug)
	);
	if (participant) await leaveWaitingRoomByBeacon(db, participant);
	return new Response(null, { status: 204 });
};
