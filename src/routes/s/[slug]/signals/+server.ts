import { json } from '@sveltejs/kit';
import { getDatabase } from '$lib/server/db';
import { readParticipantCookie } from '$lib/server/participants/cookies';
import { getRealtime } from '$lib/server/realtime/runtime';
import { ingestParticipantSignals } from '$lib/server/signals/ingest';
import { MAX_BATCH_BYTES } from '$lib/server/signals/batch';
import type { RequestHandler } from './$types';

const noStore = { 'cache-control': 'no-store' };

/**
 * A participant's device posts signal samples for the room they are in:
 * `{ samples: [{ id, kind: 'rr' | 'coherence' | 'rating', …, at }] }` (docs/PROTOCOL.md §8b).
 * Authenticated by the participant cookie; the Origin check in hooks refuses cross-site posts.
 */
export const POST: RequestHandler = async ({ params, cookies, request }) => {
	// Refused before reading: the body limit is the batch's, not the server's.
	if (Number(request.headers.get('content-length') ?? 0) > MAX_BATCH_BYTES) {
		return json({ error: 'too_large' }, { status: 413, headers: noStore });
	}
	const result = await ingestParticipantSignals({
		db: await getDatabase(),
		sink: getRealtime()?.hub,
		slug: params.slug,
		token: readParticipantCookie(cookies, params.slug),
		body: await request.text()
	});
	if (result.ok) return json({ accepted: result.accepted }, { headers: noStore });
	switch (result.reason) {
		case 'unauthorized':
			return json({ error: 'no_participant' }, { status: 401, headers: noStore });
		case 'not_in_room':
			return json({ error: 'not_in_room' }, { status: 403, headers: noStore });
		case 'invalid':
			return json({ error: 'invalid', message: result.message }, { status: 400, headers: noStore });
		case 'busy':
			return json(
				{ error: 'busy', retryAfterMs: result.retryAfterMs },
				{
					status: 503,
					headers: { ...noStore, 'retry-after': String(Math.ceil(result.retryAfterMs / 1000)) }
				}
			);
		case 'unavailable':
			return json({ error: 'unavailable' }, { status: 503, headers: noStore });
	}
};
