import { json } from '@sveltejs/kit';
import { getEnv } from '$lib/server/config/env';
import { receiveLiveKitWebhook } from '$lib/server/livekit/webhooks';
import { getRealtime } from '$lib/server/realtime/runtime';
import type { RequestHandler } from './$types';

/**
 * LiveKit's webhook target (set `http(s)://<ensemble>/livekit/webhook` in LiveKit's config):
 * server to server, authenticated by LiveKit's signature in `Authorization`, so it lives
 * outside `/api` (whose Authorization means an API token). See docs/LIVEKIT.md.
 */
export const POST: RequestHandler = async ({ request }) => {
	const config = getEnv().livekit;
	if (!config) return json({ error: 'livekit_not_configured' }, { status: 503 });
	const hub = getRealtime()?.hub;
	if (!hub) return json({ error: 'unavailable' }, { status: 503 });
	const result = await receiveLiveKitWebhook({
		config,
		body: await request.text(),
		authorization: request.headers.get('authorization'),
		now: Date.now(),
		submit: (roomId, record, id) => hub.submitServerCommand(roomId, 'av.record', record, id)
	});
	if (result.ok) return json({ outcome: result.outcome });
	const status = { unauthorized: 401, invalid: 400, stale: 400, failed: 503 }[result.reason];
	return json({ error: result.reason, message: result.message }, { status });
};
