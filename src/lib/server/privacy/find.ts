import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Outcome } from '../../study';
import type { Executor } from '../db';
import { participantExternalIds, participants, type ParticipantStatus } from '../db/schema';

/** One participant in the dashboard's list. */
export type ParticipantListing = {
	id: string;
	version: number;
	status: ParticipantStatus;
	outcome: Outcome | null;
	outcomeAt: Date | null;
	role: string | null;
	condition: string | null;
	isBot: boolean;
	roomId: string | null;
	createdAt: Date;
	lastSeenAt: Date;
	/** Only when asked for (and allowed: the data permission); otherwise absent. */
	externalIds?: ExternalId[];
};

export type ExternalId = { source: string; name: string; value: string };

export type ParticipantSearch = {
	/** Empty: everyone. */
	text: string;
	/** `participant`: ids starting with the text; `external`: an external id equal to it. */
	by: 'participant' | 'external';
	includeExternalIds: boolean;
	/** The cursor of the previous page (`<created ms>.<id>`), or none for the first. */
	after?: string;
	limit: number;
};

/** `next` is the cursor of the following page, null on the last. */
export type ParticipantPage = { participants: ParticipantListing[]; next: string | null };

/** Creation time in whole milliseconds: what a cursor can carry exactly. */
const createdMs = sql<string>`floor(extract(epoch from ${participants.createdAt}) * 1000)::bigint`;

/** Splits `<ms>.<id>`; the schema has checked its shape. */
function parseCursor(cursor: string): { ms: string; id: string } {
	const dot = cursor.indexOf('.');
	return { ms: cursor.slice(0, dot), id: cursor.slice(dot + 1) };
}

/**
 * A study's participants, newest first, one page at a time (keyset on creation time and id).
 * Permission is the caller's business: this is the query alone. External ids are looked up
 * and returned only when `search` asks for them.
 */
export async function findParticipants(
	db: Executor,
	studyId: string,
	search: ParticipantSearch
): Promise<ParticipantPage> {
	const conditions: (SQL | undefined)[] = [eq(participants.studyId, studyId)];
	if (search.text !== '' && search.by === 'participant') {
		conditions.push(sql`starts_with(${participants.id}, ${search.text})`);
	}
	if (search.text !== '' && search.by === 'external') {
		conditions.push(
			sql`exists (select 1 from ${participantExternalIds}
				where ${participantExternalIds.participantId} = ${participants.id}
				and ${participantExternalIds.value} = ${search.text})`
		);
	}
	if (search.after) {
		const { ms, id } = parseCursor(search.after);
		conditions.push(sql`(${createdMs}, ${participants.id}) < (${ms}::bigint, ${id}::text)`);
	}
	const rows = await db
		.select({
			id: participants.id,
			version: participants.version,
			status: participants.status,
			outcome: participants.outcome,
			outcomeAt: participants.outcomeAt,
			role: participants.role,
			condition: participants.condition,
			isBot: participants.isBot,
			roomId: participants.roomId,
			createdAt: participants.createdAt,
			lastSeenAt: participants.lastSeenAt,
			createdMs
		})
		.from(participants)
		.where(and(...conditions))
		.orderBy(desc(createdMs), desc(participants.id))
		.limit(search.limit + 1);
	const page = rows.slice(0, search.limit);
	const last = page[page.length - 1];
	const next = rows.length > search.limit && last ? `${last.createdMs}.${last.id}` : null;
	const listed: ParticipantListing[] = page.map(({ createdMs: _ms, ...row }) => row);
	if (search.includeExternalIds) await attachExternalIds(db, listed);
	return { participants: listed, next };
}

/** Adds each listed participant's external ids (one query for the page). */
async function attachExternalIds(db: Executor, listed: ParticipantListing[]): Promise<void> {
	for (const row of listed) row.externalIds = [];
	if (listed.length === 0) return;
	const byId = new Map(listed.map((row) => [row.id, row]));
	const ids = await db
		.select()
		.from(participantExternalIds)
		.where(inArray(participantExternalIds.participantId, [...byId.keys()]))
		.orderBy(asc(participantExternalIds.source), asc(participantExternalIds.name));
	for (const { participantId, source, name, value } of ids) {
		byId.get(participantId)?.externalIds?.push({ source, name, value });
	}
}
