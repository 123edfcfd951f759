import { error } from '@sveltejs/kit';
import { requireUser } from '$lib/server/auth/guards';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { readRoomPlots } from '$lib/server/plots/queries';
import type {
	CoherencePlot,
	RatingsPlot,
	StageDurationsPlot,
	SyncPlot
} from '$lib/server/plots/types';
import { listRoomRecordings } from '$lib/server/recordings/recordings';
import { loadRoomReplay } from '$lib/server/replay/replay';
import type { PageServerLoad } from './$types';

const NOT_FOUND = 'No such room in this study, or the study is not shared with you.';

/** One room: its log for the replay (audited), its plots and its recordings. */
export const load: PageServerLoad = async ({ locals, url, params }) => {
	const user = requireUser(locals, url);
	const db = await getDatabase();
	const replay = await loadRoomReplay(db, user, params.id, params.roomId, { via: 'page' });
	if (!replay.ok) error(404, NOT_FOUND);
	const [plots, recordings] = await Promise.all([
		readRoomPlots(db, user, params.id, params.roomId, [
			'ratings',
			'sync',
			'coherence',
			'stage-durations'
		]),
		listRoomRecordings(db, user, params.id, params.roomId, getEnv())
	]);
	if (!plots.ok || !recordings.ok) error(404, NOT_FOUND);
	const { room, initial, events, startedAt, truncated, labels, users, definition } = replay.replay;
	return {
		room,
		replay: { initial, events, startedAt, truncated, labels, users },
		stageTitles: Object.fromEntries(definition.stages.map((s) => [s.id, s.title || s.id])),
		stageCount: definition.stages.length,
		plots: {
			ratings: plots.plots.ratings as RatingsPlot,
			sync: plots.plots.sync as SyncPlot,
			coherence: plots.plots.coherence as CoherencePlot,
			stageDurations: plots.plots['stage-durations'] as StageDurationsPlot
		},
		recordings: recordings.recordings
	};
};
