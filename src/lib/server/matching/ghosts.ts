import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { SessionSettings } from '$lib/study';
import type { Database } from '../db';
import { participants } from '../db/schema';
import { withStudyLock } from './lock';
import { giveOutcome, GHOST_GRACE_MS, type GivenOutcome } from './rooms';
import { nextCohortStart } from './schedule';
import { loadVersionSettings } from './versions';

/** Ghosts looked at per pass; the rest wait for the next one (a second later). */
const BATCH = 500;

/**
 * When a waiter who went away (a ghost: status `left`, never placed) should have had their
 * lobby outcome, had they stayed: their lobby timeout (matched), or just after the cohort they
 * waited for formed without them (scheduled). Null for modes without a waiting room.
 */
export function findGhostDeadline(session: SessionSettings, waitingSince: number): number | null {
	if (session.mode === 'matched') return waitingSince + session.lobbyTimeoutSeconds * 1000;
	if (session.mode === 'scheduled') return nextCohortStart(session, waitingSince) + GHOST_GRACE_MS;
	return null;
}

/**
 * Nobody waits forever in the waiting room either: a waiter whose tab closed is taken out as a
 * ghost (status `left`, so no group waits on them); if they do not come back by the time their
 * lobby would have timed out, they get `lobby_timeout` — the outcome they would have had by
 * staying — so every participant ends with exactly one outcome. Runs under each study's lock,
 * so a ghost coming back at that moment is either placed or timed out, never both.
 */
export async function timeOutGhosts(db: Database, now: Date): Promise<GivenOutcome[]> {
	const ghosts = await db
		.select({
			id: participants.id,
			studyId: participants.studyId,
			version: participants.version,
			waitingSince: participants.waitingSince
		})
		.from(participants)
		.where(
			and(
				eq(participants.status, 'left'),
				isNull(participants.outcome),
				isNull(participants.roomId)
			)
		)
		.limit(BATCH);
	const dueByStudy = new Map<string, string[]>();
	for (const ghost of ghosts) {
		if (!ghost.waitingSince) continue;
		const settings = await loadVersionSettings(db, ghost.studyId, ghost.version);
		const deadline = settings && findGhostDeadline(settings.session, ghost.waitingSince.getTime());
		if (deadline === null || deadline === undefined || deadline > now.getTime()) continue;
		dueByStudy.set(ghost.studyId, [...(dueByStudy.get(ghost.studyId) ?? []), ghost.id]);
	}
	const given: GivenOutcome[] = [];
	for (const [studyId, ids] of dueByStudy) {
		const outcomes = await withStudyLock(db, studyId, async (tx) => {
			// Only those still away: one who came back in the meantime waits on as usual.
			const still = await tx
				.select({ id: participants.id })
				.from(participants)
				.where(and(inArray(participants.id, ids), eq(participants.status, 'left')));
			return giveOutcome(
				tx,
				still.map((row) => row.id),
				'lobby_timeout',
				now
			);
		});
		given.push(...outcomes);
	}
	return given;
}
