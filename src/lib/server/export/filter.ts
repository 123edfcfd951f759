/**
 * The export filter as SQL. A participant is *included* when they match every filter (version,
 * arrival date range, outcome, bots); a room is included when at least one included participant
 * is in it; a row about a participant (an event naming them, a telemetry sample they sent, a
 * chat message they wrote) is left out when that participant is not included. Room-level rows
 * (stage changes, pauses, playback) stay, whoever caused them. Every dataset and every count
 * uses these predicates, so a count always matches what the export streams.
 *
 * The predicates name their tables explicitly (Drizzle leaves columns unqualified in some
 * positions, which is ambiguous inside a subquery that joins).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { ExportFilter } from './dataset';

/** `"table"."column"`, for SQL written here (never user input). */
export function qualified(table: string, column: string): SQL {
	return sql.raw(`"${table}"."${column}"`);
}

/** Whether the filter lets every participant through (then no predicate is needed at all). */
export function isUnfiltered(filter: ExportFilter): boolean {
	return (
		filter.versions === null &&
		filter.from === null &&
		filter.to === null &&
		filter.outcomes === null &&
		filter.includeBots
	);
}

/** `expression in (values…)` with one parameter per value; never called with none. */
function isAmong(expression: SQL, values: readonly (string | number)[]): SQL {
	return sql`${expression} in (${sql.join(
		values.map((value) => sql`${value}`),
		sql`, `
	)})`;
}

/**
 * The participants (as `table`, default the table itself) the filter includes. Never null (a
 * missing outcome is a plain `false`), so `not (…)` of it is exactly "excluded".
 */
export function matchParticipant(filter: ExportFilter, table = 'participants'): SQL {
	const parts: SQL[] = [];
	const at = qualified(table, 'created_at');
	if (filter.versions !== null) parts.push(isAmong(qualified(table, 'version'), filter.versions));
	if (filter.from !== null) parts.push(sql`${at} >= ${filter.from.toISOString()}::timestamptz`);
	if (filter.to !== null) parts.push(sql`${at} < ${filter.to.toISOString()}::timestamptz`);
	if (filter.outcomes !== null) {
		const outcome = qualified(table, 'outcome');
		parts.push(sql`(${outcome} is not null and ${isAmong(outcome, filter.outcomes)})`);
	}
	if (!filter.includeBots) parts.push(sql`${qualified(table, 'is_bot')} = false`);
	return parts.length === 0 ? sql`true` : sql`(${sql.join(parts, sql` and `)})`;
}

/** The study's participants (the `participants` table itself) the filter includes. */
export function selectParticipants(studyId: string, filter: ExportFilter): SQL {
	return sql`(${qualified('participants', 'study_id')} = ${studyId} and ${matchParticipant(filter)})`;
}

/**
 * True unless `id` (a participant id, a user id, `system` or null) names a participant the
 * filter excludes. `id` is an SQL expression on the outer row.
 */
export function isNotExcluded(id: SQL, filter: ExportFilter): SQL {
	if (isUnfiltered(filter)) return sql`true`;
	return sql`not exists (select 1 from "participants" "xp" where "xp"."id" = ${id} and not ${matchParticipant(filter, 'xp')})`;
}

/**
 * Whether the room `roomId` (an SQL expression) has an included member. Unfiltered, every
 * study room with a member qualifies; a room nobody was formed into has no data to export.
 */
export function hasIncludedMember(roomId: SQL, filter: ExportFilter): SQL {
	return sql`exists (select 1 from "room_members" "im" inner join "participants" "ip" on "ip"."id" = "im"."participant_id" where "im"."room_id" = ${roomId} and ${matchParticipant(filter, 'ip')})`;
}

/** The ids of the study's rooms with an included member, as a subquery for `in (…)`. */
export function includedRoomIds(studyId: string, filter: ExportFilter): SQL {
	return sql`(select "ir"."id" from "rooms" "ir" where "ir"."study_id" = ${studyId} and "ir"."kind" = 'study' and ${hasIncludedMember(qualified('ir', 'id'), filter)})`;
}
