import { describeDatabaseError } from '../db/errors';
import { CloseCode } from '../../protocol';
import type { Executor } from '../db';
import { log } from '../log';
import { checkGrants, type AccessGrant } from './grants';

/** Anything with a grant that can be closed: a room socket, a monitor socket. */
export type HeldGrant = {
	connection: { close(code: number, reason: string): void };
	grant: AccessGrant;
};

/** Access changes reach open sockets within this interval (the requirement is 1 s). */
export const ACCESS_CHECK_MS = 500;

/**
 * Checks every open socket's grant in one query and closes those whose access is gone: a
 * session or token that ended closes with 4401 (sign in again), access that was removed
 * (unshared, demoted to view, account disabled) with 4403 (do not retry). Returns how many closed.
 */
export async function closeRevokedSockets(
	db: Executor,
	held: readonly HeldGrant[],
	now: Date
): Promise<{ signedOut: number; revoked: number }> {
	const verdicts = await checkGrants(
		db,
		held.map((entry) => entry.grant),
		now
	);
	const closed = { signedOut: 0, revoked: 0 };
	verdicts.forEach((verdict, i) => {
		const { connection } = held[i]!;
		if (verdict === 'signed_out') {
			connection.close(CloseCode.Unauthorized, 'session ended');
			closed.signedOut++;
		} else if (verdict === 'revoked') {
			connection.close(CloseCode.AccessRevoked, 'access revoked');
			closed.revoked++;
		}
	});
	return closed;
}

/**
 * Runs `closeRevokedSockets` every ACCESS_CHECK_MS over the grants `collect` returns (this
 * replica's room and monitor sockets). One check at a time; a failed one is logged and the next
 * tick tries again. Returns a function that stops it.
 */
export function startAccessWatch(
	db: Executor,
	collect: () => HeldGrant[],
	intervalMs = ACCESS_CHECK_MS
): () => void {
	let checking = false;
	const check = async () => {
		if (checking) return;
		checking = true;
		try {
			const held = collect();
			if (held.length === 0) return;
			const closed = await closeRevokedSockets(db, held, new Date());
			if (closed.signedOut + closed.revoked > 0) log.info('realtime.access_revoked', closed);
		} catch (error) {
			log.warn('realtime.access_check_failed', { error: describeDatabaseError(error) });
		} finally {
			checking = false;
		}
	};
	const timer = setInterval(() => void check(), intervalMs);
	timer.unref?.();
	return () => clearInterval(timer);
}
