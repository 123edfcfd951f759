/**
 * Sockets per identity: one participant, one ticket or one experimenter session holds at most
 * a few sockets on this replica. The newest socket wins; the oldest beyond the cap are handed
 * back to be closed with `CloseCode.Replaced`. Pure bookkeeping (no timers, no I/O), so the hub
 * and the monitor hub share it and tests drive it with plain objects.
 *
 * Caps are per replica: rooms are sticky to a replica behind the balancer, so an identity's
 * sockets normally meet on one; across replicas each counts its own.
 */
import type { ConnectionAuth } from './connection';

/** The most sockets one identity may hold at once on this replica. */
export type SocketCaps = {
	/** Per participant (or bot) and room: their study cookie or a participant ticket. */
	perParticipant: number;
	/** Per room ticket (a ticket is a bearer grant; copies of it count together). */
	perTicket: number;
	/** Per experimenter session (its cookie), across rooms. */
	perSession: number;
};

/**
 * Defaults: one socket per participant (a second tab takes over and the first says so), one per
 * ticket (clients mint a fresh ticket per connect), and a few per session (an experimenter may
 * watch a handful of rooms or dashboards in tabs).
 */
export const DEFAULT_SOCKET_CAPS: SocketCaps = { perParticipant: 1, perTicket: 1, perSession: 4 };

/** One identity a socket counts against, with that identity's cap. */
export type IdentityKey = { key: string; cap: number };

/**
 * The identities a room socket counts against. A participant is counted per room: sandbox
 * tickets may reuse an actor id in another room, and a study participant is in one room anyway.
 */
export function identityKeysOf(
	auth: Pick<ConnectionAuth, 'roomId' | 'actor' | 'sessionId' | 'ticketHash'>,
	caps: SocketCaps
): IdentityKey[] {
	const keys: IdentityKey[] = [];
	if (auth.actor.role === 'participant' || auth.actor.role === 'bot') {
		keys.push({ key: `p\u0000${auth.roomId}\u0000${auth.actor.id}`, cap: caps.perParticipant });
	}
	if (auth.ticketHash) keys.push({ key: `t\u0000${auth.ticketHash}`, cap: caps.perTicket });
	// Cookie sockets only: sockets opened by tickets (single-use, one socket each) are guests or
	// the user themself, and a researcher's script may rightly mint many.
	if (auth.sessionId) keys.push({ key: `s\u0000${auth.sessionId}`, cap: caps.perSession });
	return keys;
}

/**
 * The open sockets of each identity, oldest first. Memory is one entry per open socket: an
 * identity with no socket left is forgotten.
 */
export class IdentitySockets<C> {
	readonly #byKey = new Map<string, C[]>();
	readonly #keysOf = new Map<C, string[]>();
	readonly #identify: (socket: C) => IdentityKey[];

	constructor(identify: (socket: C) => IdentityKey[]) {
		this.#identify = identify;
	}

	/**
	 * Counts a new socket and returns the older ones it displaces (beyond a cap of any of its
	 * identities), oldest first. They are no longer counted: the caller closes them.
	 */
	admit(socket: C): C[] {
		const identities = this.#identify(socket);
		this.#keysOf.set(
			socket,
			identities.map((identity) => identity.key)
		);
		const displaced = new Set<C>();
		for (const { key, cap } of identities) {
			const sockets = this.#byKey.get(key) ?? [];
			sockets.push(socket);
			this.#byKey.set(key, sockets);
			// The newest always stays, whatever the cap says.
			const excess = sockets.length - Math.max(1, cap);
			for (const old of sockets.slice(0, Math.max(0, excess))) displaced.add(old);
		}
		for (const old of displaced) this.release(old);
		return [...displaced];
	}

	/** Stops counting a socket (it closed, or was displaced). Unknown sockets are ignored. */
	release(socket: C): void {
		const keys = this.#keysOf.get(socket);
		if (!keys) return;
		this.#keysOf.delete(socket);
		for (const key of keys) {
			const sockets = this.#byKey.get(key);
			if (!sockets) continue;
			const index = sockets.indexOf(socket);
			if (index >= 0) sockets.splice(index, 1);
			if (sockets.length === 0) this.#byKey.delete(key);
		}
	}

	/** Sockets counted for an identity key (tests, metrics). */
	countOf(key: string): number {
		return this.#byKey.get(key)?.length ?? 0;
	}

	/** Identities with at least one socket. */
	get identities(): number {
		return this.#byKey.size;
	}
}
