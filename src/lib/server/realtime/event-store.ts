import { and, asc, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { RoomEvent } from '../../protocol';
import type { Database } from '../db';
import { roomEvents, rooms } from '../db/schema';

/** An event decided but not yet committed; seq and time are assigned by the append. */
export type PendingEvent = { actor: string; name: string; payload: unknown; clientId?: string };

export type AppendRequest = { roomId: string; expectedHead: number; events: PendingEvent[] };

export type AppendResult =
	| { ok: true; events: RoomEvent[] }
	/** Another writer moved the room's head first: reload and decide again. */
	| { ok: false; reason: 'conflict' }
	/** A client id in the request is already in the log (a retried command). */
	| { ok: false; reason: 'duplicate' };

export type RoomRecord = {
	id: string;
	kind: string;
	headSeq: number;
	closed: boolean;
	/** The study a study room belongs to; null for sandbox rooms. */
	studyId: string | null;
};

/** Result rows of a raw query: postgres.js returns an array, PGlite `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
	return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
	const candidate = error as { code?: string; cause?: { code?: string } };
	return candidate?.code === UNIQUE_VIOLATION || candidate?.cause?.code === UNIQUE_VIOLATION;
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
			sql`(${r.roomId}::text, ${r.expectedHead}::bigint, ${r.expectedHead + r.events.length}::bigint)`
	);
	const rows = requests.flatMap((r) =>
		r.events.map(
			(e, i) =>
				sql`(${r.roomId}::text, ${r.expectedHead + i + 1}::bigint, ${at.toISOString()}::timestamptz, ${e.actor}::text, ${e.name}::text, ${JSON.stringify(e.payload ?? null)}::jsonb, ${e.clientId ?? null}::text)`
		)
	);
	return sql`
		with input(room_id, expected, new_head) as (values ${sql.join(heads, sql`, `)}),
		claimed as (
			update ${rooms} as r set head_seq = input.new_head
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
				studyId: row.studyId
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
	 * Appends several rooms' events in one statement. When a client id turns out to be a
	 * duplicate the whole statement fails; each room is then retried alone, so one retried
	 * command does not fail its neighbours.
	 */
	async appendBatch(requests: AppendRequest[]): Promise<AppendResult[]> {
		const at = new Date(this.#now());
		try {
			return await this.#appendTogether(requests, at);
		} catch (error) {
			if (!isUniqueViolation(error) || requests.length === 1) {
				if (isUniqueViolation(error)) return [{ ok: false, reason: 'duplicate' }];
				throw error;
			}
		}
		const results: AppendResult[] = [];
		for (const request of requests) results.push(...(await this.appendBatch([request])));
		return results;
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
