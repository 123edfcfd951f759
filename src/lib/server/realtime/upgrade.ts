import { eq } from 'drizzle-orm';
import type { Actor } from '../../room';
import { isReservedActorId, userActorId } from '../../room/actors';
import type { SessionUser } from '../auth/sessions';
import { hashSecret } from '../auth/tokens';
import type { Database } from '../db';
import { studies } from '../db/schema';
import { findParticipantByToken } from '../participants/identity';
import { isRoomMember } from '../rooms/study-rooms';
import { canEditStudy, loadStudyForUser } from '../studies/access';
import type { ConnectionAuth } from './connection';
import type { EventStore, RoomRecord } from './event-store';
import { checkGrants, type AccessGrant } from './grants';
import { consumeTicket } from './ticket-ledger';
import { getTicketKey, verifyTicket, type TicketClaims } from './tickets';

/**
 * The actor behind a participant's study cookie: the participant (or bot) when they are a
 * member of the room, else nothing, whatever the room or study.
 */
async function findParticipantActor(
	db: Database,
	roomId: string,
	participant: { slug: string; token: string }
): Promise<{ ok: true; actor: Actor } | { ok: false }> {
	const [study] = await db
		.select({ id: studies.id })
		.from(studies)
		.where(eq(studies.slug, participant.slug))
		.limit(1);
	if (!study) return { ok: false };
	const found = await findParticipantByToken(db, study.id, participant.token);
	// Participant ids are the server's (`p-…`); a reserved one would pass for an account or it.
	if (!found || isReservedActorId(found.id) || !(await isRoomMember(db, roomId, found.id))) {
		return { ok: false };
	}
	return { ok: true, actor: { id: found.id, role: found.isBot ? 'bot' : 'participant' } };
}

const REALTIME_PATH = /^\/realtime\/rooms\/([\w.:-]{1,64})$/;
/** Participants' sockets live under their study link, where the browser sends their cookie. */
const PARTICIPANT_PATH = /^\/s\/([\w-]{1,64})\/realtime\/([\w.:-]{1,64})$/;

/** A study's live monitor (one socket per open dashboard). */
const MONITOR_PATH = /^\/realtime\/studies\/([\w.:-]{1,64})\/monitor$/;

/** The study id when `pathname` is a study monitor's socket path, else undefined. */
export function matchMonitorPath(pathname: string): string | undefined {
	return MONITOR_PATH.exec(pathname)?.[1];
}

/** The room id when `pathname` is a room socket path, else undefined. */
export function matchRealtimePath(pathname: string): string | undefined {
	return REALTIME_PATH.exec(pathname)?.[1];
}

/** `{ slug, roomId }` when `pathname` is a participant's room socket path, else undefined. */
export function matchParticipantRealtimePath(
	pathname: string
): { slug: string; roomId: string } | undefined {
	const match = PARTICIPANT_PATH.exec(pathname);
	return match ? { slug: match[1]!, roomId: match[2]! } : undefined;
}

export type UpgradeInput = {
	roomId: string;
	origin: string | null;
	ticket: string | null;
	/** The experimenter signed in by cookie, if any (resolved by the authenticate hook). */
	user: SessionUser | null;
	sessionId: string | null;
	/** The study link's slug and the participant token from its cookie, for participant sockets. */
	participant?: { slug: string; token: string } | null;
};

export type UpgradeDeps = {
	db: Database;
	store: Pick<EventStore, 'findRoom'>;
	allowedOrigins: ReadonlySet<string>;
	now: number;
};

export type UpgradeDecision =
	| { ok: true; auth: ConnectionAuth }
	| { ok: false; status: number; error: string; message: string };

/**
 * Every socket upgrade needs an allowed Origin (browsers always send it; this blocks cross-site
 * socket hijacking): the refusal, or null when the origin is allowed.
 */
export function checkSocketOrigin(
	origin: string | null,
	allowedOrigins: ReadonlySet<string>
): Extract<UpgradeDecision, { ok: false }> | null {
	if (origin && allowedOrigins.has(origin)) return null;
	return {
		ok: false,
		status: 403,
		error: origin ? 'origin_forbidden' : 'origin_required',
		message: origin
			? `Cross-origin socket refused: ${origin} is not an allowed origin.`
			: 'Missing Origin header.'
	};
}

/**
 * Experimenters act as themselves, `u:<user id>`, so they never collide with participant ids:
 * an experimenter when they may edit (the study, or for sandbox rooms their account role), else
 * an observer. A `viewer` account is always an observer.
 */
export function experimenterActor(
	user: Pick<SessionUser, 'id' | 'role'>,
	canEdit: boolean = user.role !== 'viewer'
): Actor {
	const role = canEdit && user.role !== 'viewer' ? 'experimenter' : 'observer';
	return { id: userActorId(user.id), role };
}

type Refusal = Extract<UpgradeDecision, { ok: false }>;

const refuse = (status: number, error: string, message: string): Refusal => ({
	ok: false,
	status,
	error,
	message
});

/** Whether signed claims name an identity the server could have assigned for their role. */
function isAssignableActor(claims: TicketClaims): boolean {
	if (claims.role === 'experimenter' || claims.role === 'observer') {
		return claims.actor === userActorId(claims.userId);
	}
	return !isReservedActorId(claims.actor);
}

/**
 * A ticket's socket: a genuine, unexpired ticket for this room, whose minting user still has
 * the access it was minted with (session or token valid, not disabled, the study still shared
 * with the same rights), used for the first time (on any replica). Used last, so a ticket
 * refused for another reason is not spent.
 */
async function admitTicket(
	ticket: string,
	room: RoomRecord | undefined,
	roomId: string,
	deps: UpgradeDeps
): Promise<{ ok: true; auth: ConnectionAuth } | Refusal> {
	const check = verifyTicket(await getTicketKey(deps.db), ticket, deps.now);
	if (!check.ok) {
		const state = check.reason === 'expired' ? 'expired' : 'not valid';
		return refuse(401, 'invalid_ticket', `The room ticket is ${state}.`);
	}
	const { claims } = check;
	if (claims.roomId !== roomId) return refuse(403, 'wrong_room', 'The ticket is for another room.');
	if (!isAssignableActor(claims))
		return refuse(401, 'invalid_ticket', 'The room ticket is not valid.');
	if (!room) return refuse(404, 'room_not_found', 'No such room.');
	const grant: AccessGrant = {
		userId: claims.userId,
		studyId: room.studyId,
		credential: claims.credential,
		needs: claims.role === 'observer' ? 'view' : 'edit'
	};
	const [verdict] = await checkGrants(deps.db, [grant], new Date(deps.now));
	if (verdict === 'signed_out') {
		return refuse(401, 'invalid_ticket', 'The session that minted this ticket has ended.');
	}
	if (verdict !== 'ok') {
		return refuse(403, 'access_revoked', 'The access this ticket was minted with is gone.');
	}
	if (!(await consumeTicket(deps.db, claims.id, claims.expiresAt))) {
		return refuse(401, 'ticket_used', 'This room ticket was already used; mint a fresh one.');
	}
	return {
		ok: true,
		auth: {
			roomId,
			actor: { id: claims.actor, role: claims.role },
			grant,
			ticketHash: hashSecret(ticket)
		}
	};
}

/**
 * A signed-in experimenter's socket (cookie): themselves, as an experimenter with edit access
 * to the room's study (sandbox rooms: a non-viewer account), else as an observer.
 */
async function admitSignedIn(
	user: SessionUser,
	sessionId: string,
	room: RoomRecord,
	deps: UpgradeDeps
): Promise<{ ok: true; auth: ConnectionAuth } | Refusal> {
	let canEdit = user.role !== 'viewer';
	if (room.studyId) {
		const found = await loadStudyForUser(deps.db, user, room.studyId);
		if (!found) return refuse(403, 'forbidden', 'You have no access to this study.');
		canEdit = canEditStudy(found.access);
	}
	const actor = experimenterActor(user, canEdit);
	const grant: AccessGrant = {
		userId: user.id,
		studyId: room.studyId,
		credential: { kind: 'session', id: sessionId },
		needs: actor.role === 'experimenter' ? 'edit' : 'view'
	};
	return { ok: true, auth: { roomId: room.id, actor, sessionId, grant } };
}

/**
 * Decides whether a WebSocket upgrade may proceed, before upgrading: the Origin must be
 * allowed (browsers always send it; this blocks cross-site socket hijacking), the caller must
 * be a member of the room (their study cookie), hold a valid unused ticket for it, or be signed
 * in, and the room must exist. Identities are the server's: nothing the caller sends names the
 * actor. The production hook and the dev-server plugin both call this one function.
 */
export async function decideUpgrade(
	input: UpgradeInput,
	deps: UpgradeDeps
): Promise<UpgradeDecision> {
	const originRefused = checkSocketOrigin(input.origin, deps.allowedOrigins);
	if (originRefused) return originRefused;
	const room = await deps.store.findRoom(input.roomId);
	if (input.participant) {
		const found = await findParticipantActor(deps.db, input.roomId, input.participant);
		if (!found.ok) {
			return refuse(403, 'not_a_member', 'This link does not belong to a member of that room.');
		}
		if (!room) return refuse(404, 'room_not_found', 'No such room.');
		return { ok: true, auth: { roomId: input.roomId, actor: found.actor } };
	}
	if (input.ticket) return admitTicket(input.ticket, room, input.roomId, deps);
	if (input.user && input.sessionId) {
		if (!room) return refuse(404, 'room_not_found', 'No such room.');
		return admitSignedIn(input.user, input.sessionId, room, deps);
	}
	return refuse(401, 'unauthenticated', 'Sign in, or open the socket with a room ticket.');
}
