import { and, count, eq, isNull, sql } from 'drizzle-orm';
import type { StudySettings } from '$lib/study';
import type { Database, Executor } from '../db';
import { openRooms, participants, roomMembers, rooms } from '../db/schema';
import { generateInviteCode, normalizeInviteCode } from './invite-code';
import { withStudyLock } from './lock';
import { chooseNextRole, pickCondition, type Random } from './plan';
import { insertStudyRoom, placeMembers } from './rooms';
import { loadVersionSettings } from './versions';

/** How `joinOpenRoom` finds a room: an invite code, or a new room the participant starts. */
export type OpenRoomRequest = { code: string } | { create: true };

export type JoinOpenRoomResult =
	| {
			ok: true;
			roomId: string;
			code: string;
			role: string | null;
			condition: string | null;
			/** False when the participant was already in this (or another) room: a resend. */
			joined: boolean;
	  }
	| {
			ok: false;
			reason: 'not_found' | 'wrong_mode' | 'not_allowed' | 'unknown_code' | 'full' | 'finished';
	  };

/** A new code is tried this many times when it collides with an existing one. */
const CODE_ATTEMPTS = 8;

/**
 * Makes an open room with a fresh invite code; its condition is chosen now (balanced over the
 * study's open rooms). For participants who may start rooms, and for experimenters.
 * Assumes the caller holds the study's matching lock.
 */
export async function createOpenRoom(
	tx: Executor,
	input: { studyId: string; version: number; settings: StudySettings; now: Date; random: Random }
): Promise<{ roomId: string; code: string; condition: string | null }> {
	const counted = await tx
		.select({ condition: openRooms.condition, n: count() })
		.from(openRooms)
		.where(eq(openRooms.studyId, input.studyId))
		.groupBy(openRooms.condition);
	const counts = new Map(counted.map((row) => [row.condition ?? '', Number(row.n)]));
	const condition = pickCondition(
		input.settings.conditions.list,
		input.settings.conditions.assignment,
		counts,
		input.random
	);
	const roomId = await insertStudyRoom(tx, input);
	for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
		const code = generateInviteCode();
		// `on conflict do nothing` rather than catching: a failed statement aborts a Postgres tx.
		const inserted = await tx
			.insert(openRooms)
			.values({ roomId, studyId: input.studyId, code, condition, createdAt: input.now })
			.onConflictDoNothing({ target: openRooms.code })
			.returning({ code: openRooms.code });
		if (inserted.length > 0) return { roomId, code, condition };
	}
	throw new Error(`no free invite code after ${CODE_ATTEMPTS} attempts`);
}

/**
 * `open` mode: joins a participant to the room behind an invite code (up to the session's
 * capacity and the roles' maxima), or starts a new room when the study lets participants.
 * Under the study's lock, so two people taking the last seat at once cannot both get it.
 */
export function joinOpenRoom(
	db: Database,
	studyId: string,
	participantId: string,
	request: OpenRoomRequest,
	now: Date,
	options: { random?: Random } = {}
): Promise<JoinOpenRoomResult> {
	const random = options.random ?? Math.random;
	return withStudyLock(db, studyId, async (tx): Promise<JoinOpenRoomResult> => {
		const [p] = await tx
			.select()
			.from(participants)
			.where(and(eq(participants.id, participantId), eq(participants.studyId, studyId)))
			.limit(1);
		if (!p) return { ok: false, reason: 'not_found' };
		if (p.status === 'in_room' && p.roomId) {
			const [room] = await tx
				.select({ code: openRooms.code })
				.from(openRooms)
				.where(eq(openRooms.roomId, p.roomId));
			return {
				ok: true,
				roomId: p.roomId,
				code: room?.code ?? '',
				role: p.role,
				condition: p.condition,
				joined: false
			};
		}
		if (p.status === 'finished' || p.outcome) return { ok: false, reason: 'finished' };
		const settings = await loadVersionSettings(tx, studyId, p.version);
		if (!settings || settings.session.mode !== 'open') return { ok: false, reason: 'wrong_mode' };

		let room: { roomId: string; code: string; condition: string | null };
		if ('create' in request) {
			if (!settings.session.participantsCreateRooms) return { ok: false, reason: 'not_allowed' };
			room = await createOpenRoom(tx, { studyId, version: p.version, settings, now, random });
		} else {
			const code = normalizeInviteCode(request.code);
			if (!code) return { ok: false, reason: 'unknown_code' };
			const [found] = await tx
				.select({ roomId: openRooms.roomId, code: openRooms.code, condition: openRooms.condition })
				.from(openRooms)
				.innerJoin(rooms, eq(rooms.id, openRooms.roomId))
				.where(
					and(eq(openRooms.code, code), eq(openRooms.studyId, studyId), isNull(rooms.closedAt))
				)
				.limit(1);
			if (!found) return { ok: false, reason: 'unknown_code' };
			room = found;
		}

		const members = await tx
			.select({ role: roomMembers.role })
			.from(roomMembers)
			.where(eq(roomMembers.roomId, room.roomId));
		if (members.length >= settings.session.capacity) return { ok: false, reason: 'full' };
		const taken = new Map<string, number>();
		for (const m of members) if (m.role) taken.set(m.role, (taken.get(m.role) ?? 0) + 1);
		const role = chooseNextRole(settings.roles, taken, random);
		if (role === undefined) return { ok: false, reason: 'full' };
		await placeMembers(
			tx,
			room.roomId,
			[{ participantId, role, condition: room.condition }],
			['consenting', 'waiting', 'left'],
			now
		);
		return { ok: true, ...room, role, joined: true };
	});
}

/** Members of an open room right now (for "3 of 6" on the invite page). */
export async function countRoomMembers(db: Database, roomId: string): Promise<number> {
	const [row] = await db
		.select({ n: sql<number>`count(*)::int` })
		.from(roomMembers)
		.where(eq(roomMembers.roomId, roomId));
	return Number(row?.n ?? 0);
}
