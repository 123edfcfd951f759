/**
 * No room waits forever. A loaded room fires its own deadlines; a room nobody has loaded (its
 * members all closed the tab) has its next deadline in `rooms.wake_at`, written with every
 * append; a room whose host replica died (`rooms.host_replica`, `replicas`) may show members
 * connected whom nobody holds any more. Every replica runs this sweeper: it claims rooms that
 * are due, or whose host is gone, for a short lease (`FOR UPDATE SKIP LOCKED`, so exactly one
 * replica claims each, on PGlite as on Postgres) and loads them. The loaded room fires its due
 * deadlines and, after hearing the other replicas, takes members connected nowhere as gone.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../db';
import { describeDatabaseError } from '../db/errors';
import { replicas, rooms } from '../db/schema';
import { log } from '../log';

export type SweeperOptions = {
	/** How often each replica looks for due rooms. */
	intervalMs?: number;
	/**
	 * A due room is left this long to the replica that has it loaded (its own timer fires at
	 * the deadline) before the sweeper takes it.
	 */
	graceMs?: number;
	/** How long a claim keeps other replicas away: the room loads and ticks well within it. */
	leaseMs?: number;
	/** Rooms claimed per pass. */
	batch?: number;
	now?: () => number;
};

const DEFAULTS = { intervalMs: 1_000, graceMs: 1_000, leaseMs: 30_000, batch: 50 };

/** Result rows of a raw query: postgres.js returns an array, PGlite `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
	return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * Claims up to `batch` rooms that nobody holds a lease on and whose wake-up fell due before
 * `now - graceMs` or whose host replica is no longer alive, for `leaseMs` (a dead host is
 * cleared: the claimer's members take it again). Concurrent callers on other replicas skip
 * locked rows, so every such room is claimed by exactly one of them.
 */
export async function claimDueRooms(
	db: Database,
	now: number,
	options: { graceMs: number; leaseMs: number; batch: number }
): Promise<string[]> {
	const dueBefore = new Date(now - options.graceMs).toISOString();
	const current = new Date(now).toISOString();
	const leaseUntil = new Date(now + options.leaseMs).toISOString();
	const hostGone = sql`not exists (
		select 1 from ${replicas} as alive
		where alive.id = r.host_replica and alive.alive_until > ${current}::timestamptz)`;
	// Two scans, each on its partial index (rooms with a wake-up; rooms with a host), not one
	// pass over every room ever run.
	const result = await db.execute(sql`
		with candidates as (
			select r.id from ${rooms} as r
			where r.wake_at is not null and r.wake_at <= ${dueBefore}::timestamptz
			union
			select r.id from ${rooms} as r where r.host_replica is not null and ${hostGone}
		),
		due as (
			select r.id, (r.host_replica is not null and ${hostGone}) as host_gone
			from ${rooms} as r
			where r.id in (select id from candidates)
				and (r.wake_lease_until is null or r.wake_lease_until <= ${current}::timestamptz)
			order by r.wake_at nulls first
			limit ${options.batch}
			for update of r skip locked
		)
		update ${rooms} as target set wake_lease_until = ${leaseUntil}::timestamptz,
			host_replica = case when due.host_gone then null else target.host_replica end
		from due
		where target.id = due.id
		returning target.id`);
	return rowsOf<{ id: string }>(result).map((row) => row.id);
}

/**
 * Starts this replica's sweeper; returns a function that stops it. `wake` loads a room (the
 * hub's `wakeRoom`). A slow pass is never overlapped by the next; failures are logged and the
 * next pass tries again (a room whose lease lapsed is claimed again).
 */
export function startRoomSweeper(
	db: Database,
	wake: (roomId: string) => Promise<boolean>,
	options: SweeperOptions = {}
): () => void {
	const { intervalMs, graceMs, leaseMs, batch } = { ...DEFAULTS, ...options };
	const now = options.now ?? Date.now;
	let running = false;
	const pass = async () => {
		if (running) return;
		running = true;
		try {
			const claimed = await claimDueRooms(db, now(), { graceMs, leaseMs, batch });
			for (const roomId of claimed) {
				const woken = await wake(roomId).catch(() => false);
				if (!woken) log.warn('rooms.wake_failed', { room: roomId });
			}
			if (claimed.length > 0) log.info('rooms.swept', { rooms: claimed.length });
		} catch (error) {
			log.warn('rooms.sweep_failed', { error: describeDatabaseError(error) });
		} finally {
			running = false;
		}
	};
	const timer = setInterval(() => void pass(), intervalMs);
	timer.unref?.();
	return () => clearInterval(timer);
}
