/**
 * Who an actor id names. The server decides every id: participants and bots are their
 * participant row (`p-…`), sandbox guests a fresh pseudonym (`g-…`), experimenters and observers
 * their account (`u:<user id>`), and the server itself `system`. Pure and isomorphic: the
 * browser uses it to trust only the server's own frames.
 */
import type { ActorRole } from './index';

/** The server's own actor: ticks, presence, the live metric. No socket ever speaks as it. */
export const SYSTEM_ACTOR_ID = 'system';

/** Experimenter and observer actors are `u:<user id>`; nobody else may use the prefix. */
export const USER_ACTOR_PREFIX = 'u:';

/** The actor id of a signed-in account. */
export function userActorId(userId: string): string {
	return `${USER_ACTOR_PREFIX}${userId}`;
}

/** The account id behind a `u:` actor, or undefined for anyone else. */
export function userIdOfActor(actorId: string): string | undefined {
	return actorId.startsWith(USER_ACTOR_PREFIX)
		? actorId.slice(USER_ACTOR_PREFIX.length)
		: undefined;
}

/**
 * Whether an id is reserved for the server or for accounts, so a participant, a bot or a guest
 * must never carry it: `system`, or anything with the `u:` prefix.
 */
export function isReservedActorId(actorId: string): boolean {
	return actorId === SYSTEM_ACTOR_ID || actorId.startsWith(USER_ACTOR_PREFIX);
}

/**
 * Telemetry is a member's own data (ratings, sync quality, heart signals): only participants
 * and bots (and sandbox guests, who are participants) send it, never an experimenter or an
 * observer, so nobody writes data in someone else's name.
 */
export function canSendTelemetry(role: ActorRole): boolean {
	return role === 'participant' || role === 'bot';
}

/** Ephemeral messages reach every member as from their sender; observers only watch. */
export function canSendEphemeral(role: ActorRole): boolean {
	return role !== 'observer';
}
