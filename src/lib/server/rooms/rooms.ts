import { desc, eq } from 'drizzle-orm';
import * as v from 'valibot';
import type { SessionUser } from '../auth/sessions';
import { generateSecureRandomString } from '../auth/tokens';
import type { Database } from '../db';
import { rooms, users } from '../db/schema';
import { EventStore } from '../realtime/event-store';
import { getTicketKey, signTicket, TICKET_TTL_MS } from '../realtime/tickets';
import { canEditStudy, loadStudyForUser } from '../studies/access';

export const NewRoomInput = v.object({
	kind: v.optional(
		v.picklist(['sandbox'], 'Only sandbox rooms can be created directly.'),
		'sandbox'
	),
	title: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(200)))
});
export type NewRoomInput = v.InferOutput<typeof NewRoomInput>;

export const TicketInput = v.object({
	/** The actor id the ticket speaks for; a fresh pseudonymous id when absent. */
	actor: v.optional(
		v.pipe(v.string(), v.regex(/^[\w.:-]{1,64}$/, 'Use 1–64 letters, digits, . : - or _.'))
	),
	role: v.optional(
		v.picklist(['participant', 'bot', 'observer'], 'Choose participant, bot or observer.'),
		'participant'
	)
});
export type TicketInput = v.InferOutput<typeof TicketInput>;

/**
 * Creates a sandbox room: a room outside any study, for trying the realtime layer, bots and
 * benchmarks. Study rooms are created by group formation.
 */
export async function createSandboxRoom(
	db: Database,
	createdBy: string,
	input: NewRoomInput
): Promise<{ id: string }> {
	const id = `r-${generateSecureRandomString().slice(0, 16)}`;
	await new EventStore(db).createRoom(id, input.kind, { title: input.title, createdBy });
	return { id };
}

export type IssuedTicket = { ticket: string; actor: string; expiresAt: number; path: string };

export type IssueTicketResult =
	| { ok: true; issued: IssuedTicket }
	| { ok: false; reason: 'room_not_found' }
	/** A study room, and the user may only view the study: observer tickets only. */
	| { ok: false; reason: 'observer_only' };

/**
 * Mints a short-lived ticket to open a room's socket as `actor`. A study room's ticket speaks
 * for anyone in it, so it needs edit access to the study (view access: observer tickets only);
 * a study the user cannot see is "not found", like a room that does not exist.
 */
export async function issueRoomTicket(
	db: Database,
	user: Pick<SessionUser, 'id' | 'role'>,
	roomId: string,
	input: TicketInput,
	now: number
): Promise<IssueTicketResult> {
	const room = await new EventStore(db).findRoom(roomId);
	if (!room) return { ok: false, reason: 'room_not_found' };
	if (room.studyId) {
		const study = await loadStudyForUser(db, user, room.studyId);
		if (!study) return { ok: false, reason: 'room_not_found' };
		if (!canEditStudy(study.access) && input.role !== 'observer') {
			return { ok: false, reason: 'observer_only' };
		}
	}
	const actor = input.actor ?? `p-${generateSecureRandomString().slice(0, 12)}`;
	const expiresAt = now + TICKET_TTL_MS;
	const ticket = signTicket(await getTicketKey(db), { roomId, actor, role: input.role, expiresAt });
	return {
		ok: true,
		issued: {
			ticket,
			actor,
			expiresAt,
			path: `/realtime/rooms/${roomId}?ticket=${encodeURIComponent(ticket)}`
		}
	};
}

export type SandboxRoomListing = {
	id: string;
	title: string | null;
	createdAt: Date;
	headSeq: number;
};

/** The most recent sandbox rooms, newest first. */
export async function listSandboxRooms(db: Database, limit = 20): Promise<SandboxRoomListing[]> {
	return db
		.select({
			id: rooms.id,
			title: rooms.title,
			createdAt: rooms.createdAt,
			headSeq: rooms.headSeq
		})
		.from(rooms)
		.where(eq(rooms.kind, 'sandbox'))
		.orderBy(desc(rooms.createdAt))
		.limit(limit);
}

/** A room for the dashboard, with display names for experimenter actors (`u:<user id>`). */
export async function findRoomForDashboard(db: Database, roomId: string) {
	const room = await new EventStore(db).findRoom(roomId);
	if (!room) return undefined;
	const people = await db.select({ id: users.id, name: users.name }).from(users);
	return { room, names: Object.fromEntries(people.map((p) => [`u:${p.id}`, p.name])) };
}
