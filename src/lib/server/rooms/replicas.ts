/**
 * Replica liveness: every replica pushes its row's `alive_until` on each second. Rooms record
 * the replica holding their members' sockets (`rooms.host_replica`); a host whose row lapses
 * has died (or stopped), and the sweeper loads its rooms elsewhere (sweeper.ts).
 */
import { eq, lt } from 'drizzle-orm';
import type { Database } from '../db';
import { describeDatabaseError } from '../db/errors';
import { replicas } from '../db/schema';
import { log, logThrottled } from '../log';

/** How often a replica says it is alive. */
export const REPLICA_BEAT_MS = 1_000;
/**
 * A replica silent this long is taken as gone: three missed beats, so a slow event loop or a
 * database hiccup is not a death, yet a killed replica's rooms move within a few seconds.
 */
export const REPLICA_LEASE_MS = 3_000;
/** Rows of replicas gone longer than this are deleted (replica ids may be per boot). */
const FORGET_AFTER_MS = 24 * 60 * 60_000;

/** Records `replicaId` as alive until `now + REPLICA_LEASE_MS`. */
export async function markReplicaAlive(db: Database, replicaId: string, now: number) {
	const aliveUntil = new Date(now + REPLICA_LEASE_MS);
	await db
		.insert(replicas)
		.values({ id: replicaId, aliveUntil })
		.onConflictDoUpdate({ target: replicas.id, set: { aliveUntil } });
}

/** A replica that stops on purpose says so at once: its rooms need not wait for the lease. */
export async function removeReplica(db: Database, replicaId: string): Promise<void> {
	await db.delete(replicas).where(eq(replicas.id, replicaId));
}

/**
 * Starts this replica's heartbeat; the returned function stops it and removes the row (a
 * graceful shutdown: its rooms' members have been told to reconnect elsewhere).
 */
export function startReplicaHeartbeat(
	db: Database,
	replicaId: string,
	now: () => number = Date.now
): () => Promise<void> {
	let beating: Promise<void> | undefined;
	const beat = () => {
		beating ??= markReplicaAlive(db, replicaId, now())
			.catch((error: unknown) =>
				logThrottled('warn', 'replica.beat_failed', { error: describeDatabaseError(error) })
			)
			.finally(() => (beating = undefined));
	};
	beat();
	const timer = setInterval(beat, REPLICA_BEAT_MS);
	timer.unref?.();
	const forget = setInterval(() => {
		void db
			.delete(replicas)
			.where(lt(replicas.aliveUntil, new Date(now() - FORGET_AFTER_MS)))
			.catch(() => undefined);
	}, 60 * 60_000);
	forget.unref?.();
	return async () => {
		clearInterval(timer);
		clearInterval(forget);
		await beating;
		await removeReplica(db, replicaId).catch((error: unknown) =>
			log.warn('replica.remove_failed', { error: describeDatabaseError(error) })
		);
	};
}
