import type { Actor } from '../../room';

/** Who a socket belongs to, decided before the upgrade. */
export type ConnectionAuth = {
	roomId: string;
	actor: Actor;
	/** Set for experimenters: the session whose revocation must close the socket. */
	sessionId?: string;
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
