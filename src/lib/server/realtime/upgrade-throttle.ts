/**
 * Socket upgrades per client address (room and dashboard sockets alike): a burst, then a steady
 * rate; beyond it the upgrade is refused with 429 and `Retry-After`. Checked at the very front
 * (the Bun entry, and the dev server), before SvelteKit, sessions or the database see the
 * request: a flood of refused upgrades then costs the server a few microseconds each.
 * Per replica, like the login throttle: each replica counts the upgrades it sees.
 */
import { TokenBucketThrottle, type ThrottleDecision } from '../auth/throttle';
import { getEnv, type Env } from '../config/env';
import { problem, problemResponse } from '../http/problem';
import { getRealtimeMetrics } from './metrics';
import { matchMonitorPath, matchParticipantRealtimePath, matchRealtimePath } from './upgrade';

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

/** A WebSocket upgrade to one of our socket paths (rooms, participants' rooms, monitors). */
export function isSocketUpgrade(request: Request, pathname: string): boolean {
	if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return false;
	return (
		matchRealtimePath(pathname) !== undefined ||
		matchParticipantRealtimePath(pathname) !== undefined ||
		matchMonitorPath(pathname) !== undefined
	);
}

/**
 * The client's address the way the SvelteKit adapter reports it (`getClientAddress`): from
 * `ADDRESS_HEADER` behind a proxy (`x-forwarded-for`: the `XFF_DEPTH`-th address from the
 * right), else the peer's address. `unknown` when the header is missing or too short.
 */
export function readClientAddress(
	request: Request,
	peer: string | undefined,
	env: Pick<Env, 'addressHeader' | 'xffDepth'>
): string {
	if (!env.addressHeader) return peer || 'unknown';
	const value = request.headers.get(env.addressHeader);
	if (value === null) return 'unknown';
	if (env.addressHeader !== 'x-forwarded-for') return value.trim() || 'unknown';
	const addresses = value.split(',');
	if (env.xffDepth > addresses.length) return 'unknown';
	return addresses[addresses.length - env.xffDepth]!.trim() || 'unknown';
}

/**
 * Counts an upgrade from `address`: null when it may go on, else the 429 answer (with
 * `Retry-After` in whole seconds).
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
