import type { Actor } from '../../room';
import type { AccessGrant } from './grants';

/** Who a socket belongs to, decided before the upgrade. */
export type ConnectionAuth = {
	roomId: string;
	actor: Actor;
	/** Set for experimenters signed in by cookie: the session their socket keeps active. */
	sessionId?: string;
	/**
	 * Set for every socket a signed-in user opened (by cookie or by ticket): the access that must
	 * still hold for it to stay open (checked twice a second). Participants' sockets have none.
	 */
	grant?: AccessGrant;
	/** Set for ticket sockets: the ticket's SHA-256 (never the ticket), to cap sockets per ticket. */
	ticketHash?: string;
};

/**
 * What the hub needs from a socket. The Bun adapter implements it over `ServerWebSocket`;
 * tests implement it with arrays. Nothing here is Bun-specific.
 */
export interface Connection {
	readonly id: string;
	readonly auth: ConnectionAuth;
	send(frame: string): void;
	subscribe(topic: string): void;
	unsubscribe(topic: string): void;
	close(code: number, reason: string): void;
}

/** Sends one frame to every local subscriber of a topic (Bun: `server.publish`). */
export interface Transport {
	publish(topic: string, frame: string): void;
}

export const roomTopic = (roomId: string) => `room:${roomId}`;
