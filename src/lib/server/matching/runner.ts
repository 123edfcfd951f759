import { describeDatabaseError } from '../db/errors';
import { and, eq } from 'drizzle-orm';
import { getDatabase, type Database } from '../db';
import { participants } from '../db/schema';
import { log } from '../log';
import { timeOutGhosts } from './ghosts';
import { formGroups } from './matched';
import { nextCohortStart } from './schedule';
import { formCohort } from './scheduled';
import { loadVersionSettings } from './versions';

/**
 * One pass a second: groups form within about a second of becoming possible, lobby timeouts
 * are given within a second of passing, and a study nobody waits for costs one cheap query.
 */
const TICK_MS = 1_000;

/** The start (epoch ms) of the latest cohort at or before `now`; null before the first one. */
function findDueCohortStart(
	session: Parameters<typeof nextCohortStart>[0],
	now: number
): number | null {
	const next = nextCohortStart(session, now);
	if (next === now) return now;
	const due = next - session.intervalMinutes * 60_000;
	const anchor = session.firstStartAt === '' ? 0 : Date.parse(session.firstStartAt);
	return due >= anchor ? due : null;
}

/**
 * Forms what can form now in one study: matched groups (and lobby timeouts) via `formGroups`,
 * and the due scheduled cohort via `formCohort`. Safe to run on every replica at once: both
 * take the study's transaction-scoped advisory lock, so passes run one after another and each
 * sees the previous one's placements — nobody is placed twice, no group exceeds its size.
 */
export async function requestFormation(db: Database, studyId: string, now: Date): Promise<void> {
	const versions = await db
		.selectDistinct({ version: participants.version })
		.from(participants)
		.where(and(eq(participants.studyId, studyId), eq(participants.status, 'waiting')));
	let matched = false;
	let dueCohort: number | null = null;
	for (const { version } of versions) {
		const settings = await loadVersionSettings(db, studyId, version);
		if (!settings) continue;
		if (settings.session.mode === 'matched') matched = true;
		if (settings.session.mode === 'scheduled') {
			dueCohort ??= findDueCohortStart(settings.session, now.getTime());
		}
	}
	if (matched) await formGroups(db, studyId, now);
	if (dueCohort !== null) await formCohort(db, studyId, new Date(dueCohort), now);
}

/**
 * One runner pass: every study with someone in its waiting room gets a formation. Paused and
 * closed studies too — those already waiting were let in and must get a group or their
 * `lobby_timeout`, never wait forever. A failing study is logged and skipped; the pass goes on.
 */
export async function runFormationPass(db: Database, now: Date): Promise<void> {
	const waiting = await db
		.selectDistinct({ studyId: participants.studyId })
		.from(participants)
		.where(eq(participants.status, 'waiting'));
	for (const { studyId } of waiting) {
		try {
			await requestFormation(db, studyId, now);
		} catch (error) {
			log.warn('matching.formation_failed', { studyId, error: describeDatabaseError(error) });
		}
	}
}

/**
 * Starts this process's formation loop; returns a function that stops it. Every replica runs
 * one (the advisory lock keeps them from stepping on each other). The timer is unref'd, so it
 * never keeps a stopping process alive, and a slow pass is never overlapped by the next.
 */
export function startMatchingRunner(intervalMs = TICK_MS): () => void {
	let running = false;
	const tick = async () => {
		if (running) return;
		running = true;
		try {
			const db = await getDatabase();
			await runFormationPass(db, new Date());
			await timeOutGhosts(db, new Date());
		} catch (error) {
			log.warn('matching.pass_failed', { error: describeDatabaseError(error) });
		} finally {
			running = false;
		}
	};
	const timer = setInterval(() => void tick(), intervalMs);
	timer.unref();
	return () => clearInterval(timer);
}
