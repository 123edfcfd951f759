import type { Actor } from '../../room';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import type { ConnectionAuth } from './connection';
import type { EventStore } from './event-store';
import { getTicketKey, verifyTicket } from './tickets';
import { hashSecret } from '../auth/tokens';
import { isRoomMember } from '../rooms/study-rooms';
import { findParticipantByToken } from '../participants/identity';
import { loadStudyForUser } from '../studies/access';
import { studies } from '../db/schema';
import { eq } from 'drizzle-orm';

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
	if (!found || !(await isRoomMember(db, roomId, found.id))) return { ok: false };
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

/** Experimenters act as `u:<user id>` so they never collide with participant ids. */
export function experimenterActor(user: Pick<SessionUser, 'id' | 'role'>): Actor {
	return { id: `u:${user.id}`, role: user.role === 'viewer' ? 'observer' : 'experimenter' };
}

/**
 * Decides whether a WebSocket upgrade may proceed, before upgrading: the Origin must be
 * allowed (browsers always send it; this blocks cross-site socket hijacking), the caller must
 * hold a valid ticket for this room or an experimenter session, and the room must exist. The
 * production hook and the dev-server plugin both call this one function.
 */
export async function decideUpgrade(
	input: UpgradeInput,
	deps: UpgradeDeps
): Promise<UpgradeDecision> {
	const originRefused = checkSocketOrigin(input.origin, deps.allowedOrigins);
	if (originRefused) return originRefused;
	const room = await deps.store.findRoom(input.roomId);
	let auth: ConnectionAuth | undefined;
	if (input.participant) {
		const found = await findParticipantActor(deps.db, input.roomId, input.participant);
		if (!found.ok) {
			return {
				ok: false,
				status: 403,
				error: 'not_a_member',
				message: 'This link does not belong to a member of that room.'
			};
		}
		auth = { roomId: input.roomId, actor: found.actor };
	} else if (input.ticket) {
		const check = verifyTicket(await getTicketKey(deps.db), input.ticket, deps.now);
		if (!check.ok) {
			return {
				ok: false,
				status: 401,
				error: 'invalid_ticket',
				message: `The room ticket is ${check.reason === 'expired' ? 'expired' : 'not valid'}.`
			};
		}
		if (check.claims.roomId !== input.roomId) {
			return {
				ok: false,
				status: 403,
				error: 'wrong_room',
				message: 'The ticket is for another room.'
			};
		}
		auth = {
			roomId: input.roomId,
			actor: { id: check.claims.actor, role: check.claims.role },
			ticketHash: hashSecret(input.ticket)
		};
	} else if (input.user && input.sessionId) {
		// A study room is for the people with access to its study; sandbox rooms, as before.
		if (room?.studyId && !(await loadStudyForUser(deps.db, input.user, room.studyId))) {
			return {
				ok: false,
				status: 403,
				error: 'forbidden',
				message: 'You have no access to this study.'
			};
		}
		auth = {
			roomId: input.roomId,
			actor: experimenterActor(input.user),
			sessionId: input.sessionId
		};
	}
	if (!auth) {
		return {
			ok: false,
			status: 401,
			error: 'unauthenticated',
			message: 'Sign in, or open the socket with a room ticket.'
		};
	}
	if (!room) {
		return { ok: false, status: 404, error: 'room_not_found', message: 'No such room.' };
	}
	return { ok: true, auth };
}
