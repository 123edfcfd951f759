import {
	summarizeRoom,
	type MonitorRoom,
	type MonitorWaiting,
	type OutcomeCount
} from '../../monitor';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import type { EventStore } from '../realtime/event-store';
import { loadStudyForUser } from '../studies/access';
import { countOutcomes, listStudyRooms, loadWatchedRoom, readWaitingRoom } from './queries';

/** Finished rooms a snapshot over HTTP lists (the newest), like the dashboard. */
const FINISHED_LISTED = 30;

export type MonitorSnapshot = {
	at: number;
	rooms: MonitorRoom[];
	waiting: MonitorWaiting;
	counts: OutcomeCount[];
};

/**
 * The monitor's picture read straight from the database, for scripts (`GET
 * /api/studies/<id>/monitor`): the same rooms, waiting room and counts as the socket's snapshot,
 * without quality figures (those live only in the memory of the replicas that received them).
 */
export async function readMonitorSnapshot(
	db: Database,
	store: Pick<EventStore, 'readEvents'>,
	user: SessionUser,
	studyId: string,
	now: Date
): Promise<{ ok: true; snapshot: MonitorSnapshot } | { ok: false; reason: 'not_found' }> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	const rows = await listStudyRooms(db, studyId);
	const chosen = [
		...rows.filter((row) => row.running),
		...rows.filter((row) => !row.running).slice(0, FINISHED_LISTED)
	];
	const rooms: MonitorRoom[] = [];
	for (const row of chosen) {
		const room = await loadWatchedRoom(db, store, row.id);
		if (room) rooms.push(summarizeRoom(room));
	}
	const [waiting, counts] = await Promise.all([
		readWaitingRoom(db, studyId, now),
		countOutcomes(db, studyId)
	]);
	return { ok: true, snapshot: { at: now.getTime(), rooms, waiting, counts } };
}
