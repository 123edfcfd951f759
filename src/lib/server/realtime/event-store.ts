import { and, asc, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { RoomEvent } from '../../protocol';
import type { Database } from '../db';
import { findSqlState, isContentRefusal, isUniqueViolation } from '../db/errors';
import { replicas, roomEvents, rooms } from '../db/schema';

/** An event decided but not yet committed; seq and time are assigned by the append. */
export type PendingEvent = { actor: string; name: string; payload: unknown; clientId?: string };

/** What an append stores about waking a study room (see `rooms.wake_at`, `host_replica`). */
export type RoomWake = {
	at: number | null;
	/** The appending replica. */
	replica: string;
	/** It holds members' sockets: it becomes the host. Else it stops being it, if it was. */
	hosting: boolean;
};

export type AppendRequest = {
	roomId: string;
	expectedHead: number;
	events: PendingEvent[];
	/**
	 * Study rooms: the room's next deadline after these events (server ms; null: none), and
	 * whether the appending replica holds members' sockets, stored with them so the sweeper
	 * finds rooms that are due, or whose host died, with nobody else connected.
	 */
	wake?: RoomWake;
};

export type AppendResult =
	| { ok: true; events: RoomEvent[] }
	/** Another writer moved the room's head first: reload and decide again. */
	| { ok: false; reason: 'conflict' }
	/** A client id in the request is already in the log (a retried command). */
	| { ok: false; reason: 'duplicate' }
	/**
	 * The database refused this request's content (nothing of it was written); the other
	 * requests of the batch were appended without it.
	 */
	| { ok: false; reason: 'refused'; detail: string };

export type RoomRecord = {
	id: string;
	kind: string;
	headSeq: number;
	closed: boolean;
	/** The study a study room belongs to; null for sandbox rooms. */
	studyId: string | null;
	/** The stored next deadline (server ms), or null. */
	wakeAt: number | null;
};

/** Result rows of a raw query: postgres.js returns an array, PGlite `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
	return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

function toRoomEvent(row: typeof roomEvents.$inferSelect): RoomEvent {
	const event: RoomEvent = {
		seq: row.seq,
		at: row.at.getTime(),
		actor: row.actor,
		name: row.name,
		payload: row.payload
	};
	if (row.clientId) event.cid = row.clientId;
	return event;
}

/**
 * Builds one statement that appends the events of several rooms. Per room it is all or
 * nothing: the CTE compare-and-sets `rooms.head_seq` from the expected head to the new one,
 * and only rooms whose head matched get their rows inserted. A concurrent writer on another
 * replica blocks on the row lock, then sees the moved head and claims nothing.
 */
function buildAppendStatement(requests: AppendRequest[], at: Date): SQL {
	const heads = requests.map(
		(r) =>
			sql`(${r.roomId}::text, ${r.expectedHead}::bigint, ${r.expectedHead + r.events.length}::bigint, ${r.wake !== undefined}::boolean, ${r.wake?.at == null ? null : new Date(r.wake.at).toISOString()}::timestamptz, ${r.wake?.replica ?? null}::text, ${r.wake?.hosting ?? false}::boolean)`
	);
	const rows = requests.flatMap((r) =>
		r.events.map(
			(e, i) =>
				sql`(${r.roomId}::text, ${r.expectedHead + i + 1}::bigint, ${at.toISOString()}::timestamptz, ${e.actor}::text, ${e.name}::text, ${JSON.stringify(e.payload ?? null)}::jsonb, ${e.clientId ?? null}::text)`
		)
	);
	return sql`
		with input(room_id, expected, new_head, sets_wake, wake_at, replica, hosting) as (values ${sql.join(heads, sql`, `)}),
		claimed as (
			update ${rooms} as r set head_seq = input.new_head,
				wake_at = case when input.sets_wake then input.wake_at else r.wake_at end,
				-- A new wake-up answers the sweeper's claim on the old one: the next may be claimed.
				wake_lease_until = case when input.sets_wake then null else r.wake_lease_until end,
				host_replica = case
					when not input.sets_wake then r.host_replica
					when input.hosting then input.replica
					when r.host_replica = input.replica then null
					else r.host_replica end
			from input
			where r.id = input.room_id and r.head_seq = input.expected
			returning r.id
		)
		insert into ${roomEvents} (room_id, seq, at, actor, name, payload, client_id)
		select e.room_id, e.seq, e.at, e.actor, e.name, e.payload, e.client_id
		from (values ${sql.join(rows, sql`, `)}) as e(room_id, seq, at, actor, name, payload, client_id)
		where e.room_id in (select id from claimed)
		returning room_id`;
}

/** What a refusal says in logs and metrics: the SQLSTATE only, never the content. */
function describeRefusal(error: unknown): string {
	return `sqlstate ${findSqlState(error) ?? 'unknown'}`;
}

/** Reads and appends room events. Appends from many rooms are committed together. */
export class EventStore {
	readonly #db: Database;
	readonly #now: () => number;

	constructor(db: Database, now: () => number = Date.now) {
		this.#db = db;
		this.#now = now;
	}

	async createRoom(id: string, kind: string, meta: { title?: string; createdBy?: string } = {}) {
		await this.#db
			.insert(rooms)
			.values({ id, kind, title: meta.title ?? null, createdBy: meta.createdBy ?? null })
			.onConflictDoNothing();
	}

	async findRoom(id: string): Promise<RoomRecord | undefined> {
		const [row] = await this.#db.select().from(rooms).where(eq(rooms.id, id)).limit(1);
		return (
			row && {
				id: row.id,
				kind: row.kind,
				headSeq: row.headSeq,
				closed: row.closedAt !== null,
				studyId: row.studyId,
				wakeAt: row.wakeAt?.getTime() ?? null
			}
		);
	}

	/** Events with `after < seq <= upTo`, in order, at most `limit`. */
	async readEvents(roomId: string, after: number, upTo = Number.MAX_SAFE_INTEGER, limit = 10_000) {
		const rows = await this.#db
			.select()
			.from(roomEvents)
			.where(
				and(eq(roomEvents.roomId, roomId), gt(roomEvents.seq, after), lte(roomEvents.seq, upTo))
			)
			.orderBy(asc(roomEvents.seq))
			.limit(limit);
		return rows.map(toRoomEvent);
	}

	/** The seqs client commands were committed as, keyed `actor + NUL + clientId`; one query. */
	async findCommittedSeqs(
		roomId: string,
		commands: { actor: string; clientId: string }[]
	): Promise<Map<string, number>> {
		const found = new Map<string, number>();
		if (commands.length === 0) return found;
		const rows = await this.#db
			.select({ actor: roomEvents.actor, clientId: roomEvents.clientId, seq: roomEvents.seq })
			.from(roomEvents)
			.where(
				and(
					eq(roomEvents.roomId, roomId),
					inArray(
						roomEvents.clientId,
						commands.map((c) => c.clientId)
					)
				)
			);
		const wanted = new Set(commands.map((c) => `${c.actor}\u0000${c.clientId}`));
		for (const row of rows) {
			const key = `${row.actor}\u0000${row.clientId}`;
			if (wanted.has(key)) found.set(key, row.seq);
		}
		return found;
	}

	/**
	 * Stores rooms' next wake-ups outside an append, in one statement: a room loaded with a
	 * stale one, and the liveness heartbeat of rooms whose members are connected here.
	 */
	async setWakeups(wakeups: { roomId: string; wakeAt: number | null }[]): Promise<void> {
		if (wakeups.length === 0) return;
		const rows = wakeups.map(
			({ roomId, wakeAt }) =>
				sql`(${roomId}::text, ${wakeAt === null ? null : new Date(wakeAt).toISOString()}::timestamptz)`
		);
		await this.#db.execute(sql`
			update ${rooms} as r set wake_at = v.wake_at, wake_lease_until = null
			from (values ${sql.join(rows, sql`, `)}) as v(id, wake_at)
			where r.id = v.id`);
	}

	/**
	 * Records `replica` as the host of those of `roomIds` that have none, or whose host is no
	 * longer alive (`replicas`); rooms with a live host are left alone (no write at all).
	 */
	async claimHosting(replica: string, roomIds: string[], now: Date): Promise<void> {
		if (roomIds.length === 0) return;
		await this.#db.execute(sql`
			update ${rooms} as r set host_replica = ${replica}
			where r.id in (${sql.join(
				roomIds.map((id) => sql`${id}`),
				sql`, `
			)})
				and r.host_replica is distinct from ${replica}
				and (r.host_replica is null or not exists (
					select 1 from ${replicas} as alive
					where alive.id = r.host_replica and alive.alive_until > ${now.toISOString()}::timestamptz))`);
	}

	/**
	 * Appends several rooms' events in one statement. When the database refuses the statement
	 * for what one request carries (a retried client id, content it cannot store), the batch
	 * is split in halves until that request stands alone: it alone is answered `duplicate` or
	 * `refused` and everything else is appended, so one room's input never fails another's.
	 * Any other failure (connection, timeout) is thrown: its outcome is unknown.
	 */
	async appendBatch(requests: AppendRequest[]): Promise<AppendResult[]> {
		try {
			return await this.#appendTogether(requests, new Date(this.#now()));
		} catch (error) {
			const duplicate = isUniqueViolation(error);
			if (!duplicate && !isContentRefusal(error)) throw error;
			if (requests.length === 1) {
				if (duplicate) return [{ ok: false, reason: 'duplicate' }];
				return [{ ok: false, reason: 'refused', detail: describeRefusal(error) }];
			}
		}
		const middle = Math.ceil(requests.length / 2);
		const first = await this.appendBatch(requests.slice(0, middle));
		return [...first, ...(await this.appendBatch(requests.slice(middle)))];
	}

	async #appendTogether(requests: AppendRequest[], at: Date): Promise<AppendResult[]> {
		const result = await this.#db.execute(buildAppendStatement(requests, at));
		const claimed = new Set(rowsOf<{ room_id: string }>(result).map((row) => row.room_id));
		return requests.map((request) => {
			if (!claimed.has(request.roomId)) return { ok: false, reason: 'conflict' };
			const events = request.events.map((e, i) => {
				const event: RoomEvent = {
					seq: request.expectedHead + i + 1,
					at: at.getTime(),
					actor: e.actor,
					name: e.name,
					payload: e.payload ?? null
				};
				if (e.clientId) event.cid = e.clientId;
				return event;
			});
			return { ok: true, events };
		});
	}
}
