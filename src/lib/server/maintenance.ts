import { describeDatabaseError } from './db/errors';
import { getSessionPolicy } from './auth/policy';
import { deleteExpiredSessions } from './auth/sessions';
import { getDatabase } from './db';
import { log } from './log';
import { deleteExpiredTickets } from './realtime/ticket-ledger';

const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Periodic housekeeping (expired sessions, used room tickets past their expiry). Returns a function that stops it. */
export function startMaintenance(): () => void {
	const sweep = async () => {
		try {
			const db = await getDatabase();
			const now = new Date();
			const removed = await deleteExpiredSessions(db, getSessionPolicy(), now);
			if (removed > 0) log.info('sessions.swept', { removed });
			const tickets = await deleteExpiredTickets(db, now);
			if (tickets > 0) log.info('tickets.swept', { removed: tickets });
		} catch (error) {
			log.warn('maintenance.sweep_failed', { error: describeDatabaseError(error) });
		}
	};
	const timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
	timer.unref();
	return () => clearInterval(timer);
}
