import { and, count, eq, gte, sql } from 'drizzle-orm';
import type { Database } from '../db';
import { participants, type ParticipantStatus } from '../db/schema';
import { ARRIVAL_WINDOW_MS, expectedWait } from './estimate';
import { withStudyLock } from './lock';
import { GHOST_GRACE_MS } from './rooms';
import { loadVersionSettings } from './versions';

export type JoinWaitingResult =
	| { ok: true; waitingSince: Date }
	| { ok: false; reason: 'not_found' | 'wrong_mode' }
	| { ok: false; reason: 'in_room'; roomId: string | null }
	| { ok: false; reason: 'finished' };

async function findStudyOf(db: Database, participantId: string) {
	const [row] = await db
		.select({ studyId: participants.studyId })
		.from(participants)
		.where(eq(participants.id, participantId))
		.limit(1);
	return row?.studyId ?? null;
}

/**
 * Puts a participant in the waiting room (matched and scheduled modes). Idempotent: a second
 * tab or a resend keeps the original place in line. Someone who left (a closed tab) and comes
 * back queues again from `now`. Runs under the study's lock, so a formation never sees half.
 */
export async function joinWaitingRoom(
	db: Database,
	participantId: string,
	now: Date
): Promise<JoinWaitingResult> {
	const studyId = await findStudyOf(db, participantId);
	if (!studyId) return { ok: false, reason: 'not_found' };
	return withStudyLock(db, studyId, async (tx): Promise<JoinWaitingResult> => {
		const [p] = await tx
			.select()
			.from(participants)
			.where(eq(participants.id, participantId))
			.limit(1);
		if (!p) return { ok: false, reason: 'not_found' };
		if (p.status === 'in_room') return { ok: false, reason: 'in_room', roomId: p.roomId };
		if (p.status === 'finished' || p.outcome) return { ok: false, reason: 'finished' };
		const settings = await loadVersionSettings(tx, studyId, p.version);
		if (!settings || settings.session.mode === 'open') return { ok: false, reason: 'wrong_mode' };
		// A refresh sends the leave beacon and rejoins a second later: someone back within the
		// ghost grace period keeps their place in line (and their lobby clock).
		const backInTime =
			p.status === 'left' &&
			p.lastSeenAt !== null &&
			now.getTime() - p.lastSeenAt.getTime() < GHOST_GRACE_MS;
		const waitingSince =
			(p.status === 'waiting' || backInTime) && p.waitingSince ? p.waitingSince : now;
		await tx
			.update(participants)
			.set({ status: 'waiting', waitingSince, lastSeenAt: now })
			.where(eq(participants.id, participantId));
		return { ok: true, waitingSince };
	});
}

export type TouchResult =
	{ ok: true } | { ok: false; reason: 'not_waiting'; status: ParticipantStatus | null };

/**
 * The waiting page's heartbeat: proves the participant is still there. No lock needed: it
 * changes only `last_seen_at`, and only while the row is still `waiting`. `not_waiting` tells
 * the page to move on (`in_room`, `finished`) or to join again (`left`).
 */
export async function touchWaiting(
	db: Database,
	participantId: string,
	now: Date
): Promise<TouchResult> {
	const touched = await db
		.update(participants)
		.set({ lastSeenAt: now })
		.where(and(eq(participants.id, participantId), eq(participants.status, 'waiting')))
		.returning({ id: participants.id });
	if (touched.length > 0) return { ok: true };
	const [row] = await db
		.select({ status: participants.status })
		.from(participants)
		.where(eq(participants.id, participantId))
		.limit(1);
	return { ok: false, reason: 'not_waiting', status: row?.status ?? null };
}

/** Takes a participant out of the waiting room (the page's `pagehide` beacon); no outcome. */
export async function leaveWaitingRoom(
	db: Database,
	participantId: string
): Promise<{ ok: true } | { ok: false; reason: 'not_waiting' }> {
	const studyId = await findStudyOf(db, participantId);
	if (!studyId) return { ok: false, reason: 'not_waiting' };
	return withStudyLock(db, studyId, async (tx) => {
		const left = await tx
			.update(participants)
			.set({ status: 'left' })
			.where(and(eq(participants.id, participantId), eq(participants.status, 'waiting')))
			.returning({ id: participants.id });
		return left.length > 0
			? { ok: true as const }
			: { ok: false as const, reason: 'not_waiting' as const };
	});
}

/** What the waiting page shows: how many wait (and are seen), how many are needed, an estimate. */
export type WaitingRoomView = { waiting: number; needed: number; expectedWaitMs: number | null };

/** The waiting room of one study version as its participants see it; null if not matched. */
export async function describeWaitingRoom(
	db: Database,
	studyId: string,
	version: number,
	now: Date
): Promise<WaitingRoomView | null> {
	const settings = await loadVersionSettings(db, studyId, version);
	if (!settings || settings.session.mode !== 'matched') return null;
	const groupSize = settings.session.groupSize;
	const [waitingRow] = await db
		.select({ n: count() })
		.from(participants)
		.where(
			and(
				eq(participants.studyId, studyId),
				eq(participants.version, version),
				eq(participants.status, 'waiting'),
				gte(participants.lastSeenAt, new Date(now.getTime() - GHOST_GRACE_MS))
			)
		);
	// waiting_since is kept after formation, so it records every arrival in the window.
	const arrivals = await db
		.select({ at: participants.waitingSince })
		.from(participants)
		.where(
			and(
				eq(participants.studyId, studyId),
				gte(participants.waitingSince, new Date(now.getTime() - ARRIVAL_WINDOW_MS)),
				sql`${participants.isBot} = false`
			)
		);
	const waiting = Number(waitingRow?.n ?? 0);
	const inLine = waiting % groupSize;
	return {
		waiting,
		needed: groupSize,
		expectedWaitMs: expectedWait(
			arrivals.map((row) => (row.at as Date).getTime()),
			inLine === 0 && waiting > 0 ? groupSize : inLine,
			groupSize,
			now.getTime()
		)
	};
}
