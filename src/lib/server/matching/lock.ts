import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../db';
import { ringStudyDoorbell } from '../monitor/doorbell';

/**
 * The first key of the two-key advisory lock form; the second is `hashtext(study id)`. Postgres
 * keeps the two-key space apart from the one-bigint space the migration lock uses, and the
 * fixed first key keeps other features' two-key locks from colliding with ours.
 */
const MATCHING_LOCK_SPACE = 727_710;

/**
 * Runs `work` in a transaction holding the study's matching lock (`pg_advisory_xact_lock`,
 * released at commit or rollback). Every change into or out of the waiting room and every
 * formation runs under it, so on any number of replicas a participant is placed once and no
 * group exceeds its size. PGlite runs the same SQL; its single connection serialises anyway.
 * Statements after the lock see everything committed before it (read committed).
 */
export async function withStudyLock<T>(
	db: Database,
	studyId: string,
	work: (tx: Executor) => Promise<T>
): Promise<T> {
	const result = await db.transaction(async (tx) => {
		await tx.execute(
			sql`select pg_advisory_xact_lock(${MATCHING_LOCK_SPACE}::int4, hashtext(${studyId}::text))`
		);
		return work(tx as unknown as Executor);
	});
	// After the commit: live monitors re-read the waiting room and the study's rooms.
	ringStudyDoorbell(studyId);
	return result;
}
