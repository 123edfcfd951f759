import { describeMoment, stateAt } from '$lib/room/study/timeline';
import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { parseTimelineQuery } from '$lib/server/replay/query';
import { loadRoomReplay, toTimeline } from '$lib/server/replay/replay';
import type { RequestHandler } from './$types';

/**
 * A room's timeline rebuilt from its log: one entry per event with its time from the room's
 * start. `?at=<seq>` adds the room's state right after that event. Audited as `room.replay`.
 */
export const GET: RequestHandler = async ({ locals, params, url }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const query = parseTimelineQuery(url.searchParams);
	if (!query.ok) return problemResponse(query.problem);
	const result = await loadRoomReplay(await getDatabase(), auth.user, params.id, params.roomId, {
		via: 'api'
	});
	if (!result.ok) return problemResponse(problem(404, 'room_not_found', 'No such room.'));
	const { replay } = result;
	const body: Record<string, unknown> = {
		room: replay.room,
		startedAt: replay.startedAt,
		truncated: replay.truncated,
		members: replay.labels,
		timeline: toTimeline(replay)
	};
	if (query.data.at !== undefined) {
		body.state = describeMoment(
			stateAt(replay.initial, replay.events, query.data.at),
			replay.labels
		);
	}
	return Response.json(body);
};
