/**
 * Socket upgrades per client address (room and dashboard sockets alike): a burst, then a steady
 * rate; beyond it the upgrade is refused with 429 and `Retry-After` before any database work.
 * Per replica, like the login throttle: each replica counts the upgrades it sees.
 */
import { TokenBucketThrottle, type ThrottleDecision } from '../auth/throttle';
import { getEnv } from '../config/env';
import { problem, problemResponse } from '../http/problem';
import { getRealtimeMetrics } from './metrics';

export type UpgradeThrottle = {
	/** Counts one upgrade attempt from `address`. */
	check(address: string, now: number): ThrottleDecision;
};

/** `perMinute` upgrades at once, refilled evenly over a minute; at most `maxAddresses` remembered. */
export function createUpgradeThrottle(perMinute: number, maxAddresses = 100_000): UpgradeThrottle {
	const buckets = new TokenBucketThrottle<string>(perMinute, 60_000 / perMinute, maxAddresses);
	return { check: (address, now) => buckets.consume(address, now) };
}

const KEY = Symbol.for('ensemble.upgradeThrottle');
type ThrottleGlobal = { [KEY]?: UpgradeThrottle };

/** The process-wide upgrade throttle, sized by `SOCKET_UPGRADES_PER_MINUTE`. */
export function getUpgradeThrottle(): UpgradeThrottle {
	const store = globalThis as ThrottleGlobal;
	return (store[KEY] ??= createUpgradeThrottle(getEnv().socketUpgradesPerMinute));
}

/**
 * Counts an upgrade from `address`: null when it may go on, else the 429 answer (with
 * `Retry-After` in whole seconds). Both upgrade hooks call this first.
 */
export function refuseUpgradeFlood(address: string, now = Date.now()): Response | null {
	const decision = getUpgradeThrottle().check(address, now);
	if (decision.ok) return null;
	getRealtimeMetrics().upgradesThrottled++;
	const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
	return problemResponse(
		problem(
			429,
			'too_many_upgrades',
			`Too many connection attempts from your address. Try again in ${seconds} s.`
		),
		{ 'retry-after': String(seconds) }
	);
}
