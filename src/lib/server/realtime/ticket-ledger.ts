import { lt } from 'drizzle-orm';
import type { Executor } from '../db';
import { consumedRoomTickets } from '../db/schema';

/**
 * Records a ticket's use; false when it was used before (on any replica: the primary key
 * decides). Call it last, once everything else about the ticket was accepted.
 */
export async function consumeTicket(
	db: Executor,
	ticketId: string,
	expiresAt: number
): Promise<boolean> {
	const claimed = await db
		.insert(consumedRoomTickets)
		.values({ ticketId, expiresAt: new Date(expiresAt) })
		.onConflictDoNothing()
		.returning({ ticketId: consumedRoomTickets.ticketId });
	return claimed.length === 1;
}

/** Forgets used tickets that have expired anyway (they are refused for their expiry now). */
export async function deleteExpiredTickets(db: Executor, now: Date): Promise<number> {
	const removed = await db
		.delete(consumedRoomTickets)
		.where(lt(consumedRoomTickets.expiresAt, now))
		.returning({ ticketId: consumedRoomTickets.ticketId });
	return removed.length;
}
