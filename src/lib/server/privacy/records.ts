import { and, eq, inArray, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db';
import { roomEvents, roomMembers, rooms, stageResponses, telemetrySamples } from '../db/schema';

/**
 * Where one participant's data lives besides their own rows. In a study room a participant's
 * actor id is their participant id: it is `room_events.actor` for what they did,
 * `telemetry_samples.actor` for what they sent, and `memberId` (or another field) in the
 * payloads of events about them. Their rooms are the room they were placed in (room_members),
 * the one on their row, and any a stored response names.
 */

/** The rooms that may hold a participant's events and telemetry. */
export async function findParticipantRooms(
	db: Executor,
	participantId: string,
	currentRoomId: string | null
): Promise<string[]> {
	// One after the other: `db` may be a transaction, which runs one statement at a time.
	const memberships = await db
		.select({ roomId: roomMembers.roomId })
		.from(roomMembers)
		.where(eq(roomMembers.participantId, participantId));
	const answered = await db
		.selectDistinct({ roomId: stageResponses.roomId })
		.from(stageResponses)
		.where(and(eq(stageResponses.participantId, participantId), isNotNull(stageResponses.roomId)));
	const ids = new Set<string>();
	if (currentRoomId) ids.add(currentRoomId);
	for (const { roomId } of [...memberships, ...answered]) if (roomId) ids.add(roomId);
	return [...ids].sort();
}

/**
 * Events the participant acted in, or whose payload names them anywhere (member ids, a
 * pause's `missing` list, whoever controlled playback). The id is searched as a quoted JSON
 * string, so `p-ab` does not match `p-abc`; ids hold no characters JSON would escape.
 */
export function eventsOfParticipant(roomIds: string[], participantId: string): SQL {
	return and(
		inArray(roomEvents.roomId, roomIds),
		or(
			eq(roomEvents.actor, participantId),
			sql`strpos(${roomEvents.payload}::text, ${JSON.stringify(participantId)}) > 0`
		)
	)!;
}

/** Chat messages the participant wrote. */
export function chatOfParticipant(roomIds: string[], participantId: string): SQL {
	return and(
		inArray(roomEvents.roomId, roomIds),
		eq(roomEvents.name, 'chat.sent'),
		sql`${roomEvents.payload}->>'memberId' = ${participantId}`
	)!;
}

/** Telemetry samples the participant sent. */
export function telemetryOfParticipant(roomIds: string[], participantId: string): SQL {
	return and(inArray(telemetrySamples.roomId, roomIds), eq(telemetrySamples.actor, participantId))!;
}

/**
 * Of `roomIds`, the study rooms still running: not finished in their log (no `room.finished`)
 * and not closed. A running room is held in memory by a LiveRoom on some replica, which would
 * keep serving events erasure has changed in the database.
 */
export async function findRunningRooms(db: Executor, roomIds: string[]): Promise<string[]> {
	if (roomIds.length === 0) return [];
	const rows = await db
		.select({ id: rooms.id })
		.from(rooms)
		.where(
			and(
				inArray(rooms.id, roomIds),
				isNull(rooms.closedAt),
				sql`not exists (select 1 from ${roomEvents}
					where ${roomEvents.roomId} = ${rooms.id} and ${roomEvents.name} = 'room.finished')`
			)
		);
	return rows.map((row) => row.id);
}

/** `count(*)` of a table under a condition, as a number on both drivers. */
export const countRows = () => sql<number>`count(*)::int`.mapWith(Number);
