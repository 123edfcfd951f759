import type { Actor } from '../../room';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import type { ConnectionAuth } from './connection';
import type { EventStore } from './event-store';
import { getTicketKey, verifyTicket } from './tickets';

const REALTIME_PATH = /^\/realtime\/rooms\/([\w.:-]{1,64})$/;

/** The room id when `pathname` is a room socket path, else undefined. */
export function matchRealtimePath(pathname: string): string | undefined {
	return REALTIME_PATH.exec(pathname)?.[1];
}

export type UpgradeInput = {
	roomId: string;
	origin: string | null;
	ticket: string | null;
	/** The experimenter signed in by cookie, if any (resolved by the authenticate hook). */
	user: SessionUser | null;
	sessionId: string | null;
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

/** Experimenters act as `u:<user id>` so they never collide with participant ids. */
function experimenterActor(user: SessionUser): Actor {
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
	if (!input.origin || !deps.allowedOrigins.has(input.origin)) {
		return {
			ok: false,
			status: 403,
			error: input.origin ? 'origin_forbidden' : 'origin_required',
			message: input.origin
				? `Cross-origin socket refused: ${input.origin} is not an allowed origin.`
				: 'Missing Origin header.'
		};
	}
	let auth: ConnectionAuth | undefined;
	if (input.ticket) {
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
		auth = { roomId: input.roomId, actor: { id: check.claims.actor, role: check.claims.role } };
	} else if (input.user && input.sessionId) {
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
	if (!(await deps.store.findRoom(input.roomId))) {
		return { ok: false, status: 404, error: 'room_not_found', message: 'No such room.' };
	}
	return { ok: true, auth };
}
