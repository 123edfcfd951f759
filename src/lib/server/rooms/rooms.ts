import { and, desc, eq, inArray, like, or, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { SessionUser } from '../auth/sessions';
import { generateSecureRandomString } from '../auth/tokens';
import type { Database } from '../db';
import { roomEvents, rooms, users } from '../db/schema';
import { EventStore } from '../realtime/event-store';
import {
	getTicketKey,
	GUEST_TTL_MS,
	signGuest,
	signTicket,
	TICKET_TTL_MS,
	verifyGuest,
	type TicketCredential
} from '../realtime/tickets';
import { experimenterActor } from '../realtime/upgrade';
import type { Actor, ActorRole } from '../../room';
import { USER_ACTOR_PREFIX, userActorId, userIdOfActor } from '../../room/actors';
import { canEditStudy, loadStudyForUser } from '../studies/access';

export const NewRoomInput = v.object({
	kind: v.optional(
		v.picklist(['sandbox'], 'Only sandbox rooms can be created directly.'),
		'sandbox'
	),
	title: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(200)))
});
export type NewRoomInput = v.InferOutput<typeof NewRoomInput>;

/**
 * A ticket request. It names no actor: the server assigns identities. `role: 'observer'` asks
 * for a view-only socket even with edit access; `guest` (sandbox rooms) continues as a guest an
 * earlier ticket of this user made up, so a reconnect keeps its identity.
 */
export const TicketInput = v.strictObject(
	{
		role: v.optional(
			v.picklist(
				['observer'],
				'The server decides your role; you may only ask for "observer" (view only).'
			)
		),
		guest: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(1024)))
	},
	'Send {}, { "role": "observer" } or { "guest": … }: the server assigns identities, so a ticket names no actor.'
);
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

export type IssuedTicket = {
	ticket: string;
	/** The identity the socket will have (decided here, never by the caller). */
	actor: string;
	role: ActorRole;
	expiresAt: number;
	path: string;
	/** Sandbox guests: pass it back as `guest` to continue as the same guest later. */
	guest?: string;
};

export type IssueTicketResult =
	| { ok: true; issued: IssuedTicket }
	| { ok: false; reason: 'room_not_found' }
	/** `guest` on a study room, or a guest token that is not this user's for this room. */
	| { ok: false; reason: 'invalid_guest'; message: string };

/**
 * Mints a short-lived, single-use ticket to open a room's socket, with an identity the server
 * decides. A study room's ticket acts as the minting user themself (`u:<user id>`): an
 * experimenter with edit access, an observer with view access or when asked; a study the user
 * cannot see is "not found", like a room that does not exist. A sandbox room's ticket is a fresh
 * pseudonymous guest (or, with `guest`, one this user was given before), or the user as an
 * observer. The ticket carries the user and their session or API token, which the upgrade
 * checks again.
 */
export async function issueRoomTicket(
	db: Database,
	user: Pick<SessionUser, 'id' | 'role'>,
	credential: TicketCredential,
	roomId: string,
	input: TicketInput,
	now: number
): Promise<IssueTicketResult> {
	const room = await new EventStore(db).findRoom(roomId);
	if (!room) return { ok: false, reason: 'room_not_found' };
	const key = await getTicketKey(db);
	let actor: Actor;
	let guest: string | undefined;
	if (room.studyId) {
		const study = await loadStudyForUser(db, user, room.studyId);
		if (!study) return { ok: false, reason: 'room_not_found' };
		if (input.guest) {
			return { ok: false, reason: 'invalid_guest', message: 'Study rooms have no guests.' };
		}
		actor = experimenterActor(user, canEditStudy(study.access) && input.role !== 'observer');
	} else if (input.role === 'observer') {
		actor = experimenterActor(user, false);
	} else {
		const resumed = input.guest
			? verifyGuest(key, input.guest, { roomId, userId: user.id }, now)
			: undefined;
		if (input.guest && !resumed) {
			return {
				ok: false,
				reason: 'invalid_guest',
				message: 'This guest is not yours, not of this room, or has expired.'
			};
		}
		actor = {
			id: resumed?.actor ?? `g-${generateSecureRandomString().slice(0, 16)}`,
			role: 'participant'
		};
		guest = signGuest(key, {
			roomId,
			actor: actor.id,
			userId: user.id,
			expiresAt: now + GUEST_TTL_MS
		});
	}
	const expiresAt = now + TICKET_TTL_MS;
	const ticket = signTicket(key, {
		id: generateSecureRandomString(),
		roomId,
		actor: actor.id,
		role: actor.role,
		userId: user.id,
		credential,
		expiresAt
	});
	return {
		ok: true,
		issued: {
			ticket,
			actor: actor.id,
			role: actor.role,
			expiresAt,
			path: `/realtime/rooms/${roomId}?ticket=${encodeURIComponent(ticket)}`,
			...(guest ? { guest } : {})
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

/**
 * A room for the dashboard, when the user may see it (a study room needs access to its study;
 * otherwise "not found", like a room that does not exist), with display names for the accounts
 * that appear in it: the experimenters and observers in its log (`u:<user id>`), those
 * connected now (`present`: the room's presence on this replica), its creator and the viewer
 * themself. Nobody else's name or id. `canEdit`: their socket acts as an
 * experimenter there (edit access to the study; sandbox rooms: a non-viewer account).
 */
export async function findRoomForDashboard(
	db: Database,
	user: Pick<SessionUser, 'id' | 'role'>,
	roomId: string,
	present: readonly string[] = []
) {
	const [room] = await db
		.select({
			id: rooms.id,
			kind: rooms.kind,
			studyId: rooms.studyId,
			createdBy: rooms.createdBy
		})
		.from(rooms)
		.where(eq(rooms.id, roomId))
		.limit(1);
	if (!room) return undefined;
	let canEdit = user.role !== 'viewer';
	if (room.studyId) {
		const study = await loadStudyForUser(db, user, room.studyId);
		if (!study) return undefined;
		canEdit = canEditStudy(study.access);
	}
	const actors = db
		.selectDistinct({ actor: roomEvents.actor })
		.from(roomEvents)
		.where(and(eq(roomEvents.roomId, roomId), like(roomEvents.actor, 'u:%')));
	const presentUsers = present.flatMap((actor) => userIdOfActor(actor) ?? []);
	const people = await db
		.select({ id: users.id, name: users.name })
		.from(users)
		.where(
			or(
				eq(users.id, user.id),
				inArray(sql`${USER_ACTOR_PREFIX} || ${users.id}`, actors),
				room.createdBy ? eq(users.id, room.createdBy) : undefined,
				presentUsers.length > 0 ? inArray(users.id, presentUsers) : undefined
			)
		);
	const names = Object.fromEntries(people.map((p) => [userActorId(p.id), p.name]));
	return { room, canEdit, names };
}
