import type { Handle } from '@sveltejs/kit';
import { getEnv } from '../config/env';
import { getDatabase } from '../db';
import { problem, problemResponse } from '../http/problem';
import { EventStore } from '../realtime/event-store';
import { getRealtimeMetrics } from '../realtime/metrics';
import { readParticipantCookie } from '../participants/cookies';
import {
	decideUpgrade,
	matchParticipantRealtimePath,
	matchRealtimePath
} from '../realtime/upgrade';

/**
 * Room sockets: `/realtime/rooms/<roomId>` (experimenters, tickets) and
 * `/s/<slug>/realtime/<roomId>` (participants: their study cookie is only sent under
 * `/s/<slug>`). Origin, authentication and the room are checked before upgrading; a refusal is
 * an ordinary HTTP error, so no socket is ever opened for it.
 */
export const upgradeRealtime: Handle = async ({ event, resolve }) => {
	const participantPath = matchParticipantRealtimePath(event.url.pathname);
	const roomId = participantPath?.roomId ?? matchRealtimePath(event.url.pathname);
	if (!roomId) return resolve(event);
	if (event.request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
		return problemResponse(
			problem(426, 'upgrade_required', 'This address only accepts WebSocket connections.')
		);
	}
	const db = await getDatabase();
	const decision = await decideUpgrade(
		{
			roomId,
			origin: event.request.headers.get('origin'),
			ticket: event.url.searchParams.get('ticket'),
			user: event.locals.user,
			sessionId: event.locals.session?.id ?? null,
			participant: participantPath
				? {
						slug: participantPath.slug,
						token: readParticipantCookie(event.cookies, participantPath.slug) ?? ''
					}
				: null
		},
		{ db, store: new EventStore(db), allowedOrigins: getEnv().allowedOrigins, now: Date.now() }
	);
	if (!decision.ok) {
		getRealtimeMetrics().rejectedUpgrades++;
		return problemResponse(problem(decision.status, decision.error, decision.message));
	}
	const platform = event.platform;
	if (!platform?.server?.upgrade(platform.request, { data: { auth: decision.auth } })) {
		return problemResponse(
			problem(
				503,
				'realtime_unavailable',
				'Realtime sockets are served by the Bun entry (bun build/server.js).'
			)
		);
	}
	return new Response(null, { status: 101 });
};
