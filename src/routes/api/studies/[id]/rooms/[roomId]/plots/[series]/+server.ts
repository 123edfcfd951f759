import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { readRoomPlot } from '$lib/server/plots/queries';
import { ROOM_PLOT_NAMES } from '$lib/server/plots/types';
import { parseRoomPlotName } from '$lib/server/replay/query';
import type { RequestHandler } from './$types';

/**
 * One plot's series for a room: `ratings`, `sync`, `coherence` or `stage-durations` (see
 * docs/REPLAY.md). Bounded: at most 600 points per line whatever the session's length.
 */
export const GET: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const name = parseRoomPlotName(params.series);
	if (!name) {
		return problemResponse(
			problem(404, 'unknown_plot', `No such plot. Plots: ${ROOM_PLOT_NAMES.join(', ')}.`)
		);
	}
	const result = await readRoomPlot(await getDatabase(), auth.user, params.id, params.roomId, name);
	if (!result.ok) return problemResponse(problem(404, 'room_not_found', 'No such room.'));
	return Response.json(result.plot);
};
