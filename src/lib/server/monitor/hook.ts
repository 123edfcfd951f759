import type { Handle } from '@sveltejs/kit';
import { getEnv } from '../config/env';
import { getDatabase } from '../db';
import { problem, problemResponse } from '../http/problem';
import { getRealtimeMetrics } from '../realtime/metrics';
import { matchMonitorPath } from '../realtime/upgrade';
import { decideMonitorUpgrade } from './upgrade';

/**
 * Study-monitor sockets: `/realtime/studies/<studyId>/monitor`, for signed-in experimenters with
 * access to the study. Decided before upgrading, like room sockets (`upgradeRealtime`): a
 * refusal is an ordinary HTTP error and no socket is ever opened for it.
 */
export const upgradeMonitor: Handle = async ({ event, resolve }) => {
	const studyId = matchMonitorPath(event.url.pathname);
	if (!studyId) return resolve(event);
	if (event.request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
		return problemResponse(
			problem(426, 'upgrade_required', 'This address only accepts WebSocket connections.')
		);
	}
	const decision = await decideMonitorUpgrade(
		{
			studyId,
			origin: event.request.headers.get('origin'),
			user: event.locals.user,
			sessionId: event.locals.session?.id ?? null
		},
		{ db: await getDatabase(), allowedOrigins: getEnv().allowedOrigins }
	);
	if (!decision.ok) {
		getRealtimeMetrics().rejectedUpgrades++;
		return problemResponse(problem(decision.status, decision.error, decision.message));
	}
	const platform = event.platform;
	if (!platform?.server?.upgrade(platform.request, { data: { monitor: decision.auth } })) {
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
