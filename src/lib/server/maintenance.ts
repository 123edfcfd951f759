import { describeDatabaseError } from './db/errors';
import { getSessionPolicy } from './auth/policy';
import { deleteExpiredSessions } from './auth/sessions';
import { getDatabase } from './db';
import { log } from './log';

const SWEEP_INTERVAL_MS = 10 * 60_000;

/** Periodic housekeeping (expired sessions). Returns a function that stops it. */
export function startMaintenance(): () => void {
	const sweep = async () => {
		try {
			const removed = await deleteExpiredSessions(
				await getDatabase(),
				getSessionPolicy(),
				new Date()
			);
			if (removed > 0) log.info('sessions.swept', { removed });
		} catch (error) {
			log.warn('sessions.sweep_failed', { error: describeDatabaseError(error) });
		}
	};
	const timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
	timer.unref();
	return () => clearInterval(timer);
}
