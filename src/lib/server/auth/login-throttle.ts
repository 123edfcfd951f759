import { FailureBackoff, TokenBucketThrottle, type ThrottleDecision } from './throttle';

/**
 * The sign-in throttle, after OWASP's device-cookie scheme. An attempt is either from a
 * **trusted device** (it presents a valid device cookie for the account: the browser signed in
 * to it before) or from an **untrusted client**.
 *
 * - A trusted device is throttled only by its own failures. Whatever anyone else does — a
 *   guesser rotating addresses, a whole botnet — its owner still signs in.
 * - Untrusted clients are limited per address (spraying many accounts), per account and
 *   address (one client guessing one account), and per account across all addresses (a
 *   distributed guesser). The last one is the lockout an attacker can keep up, and it locks
 *   out only clients the account has never signed in from.
 *
 * Counted per replica (memory, bounded): each replica counts its own attempts.
 */

// Per client address: a burst of 10 sign-ins, then one every 6 s (600/h) — enough for a lab
// behind one NAT, far too slow for guessing.
const PER_ADDRESS_CAPACITY = 10;
const PER_ADDRESS_REFILL_MS = 6_000;
// After the free failures: 1 s, 2 s, 4 s … up to 15 min between attempts.
const DELAYS_MS = [1, 2, 4, 8, 16, 32, 60, 120, 300, 900].map((s) => s * 1000);
// One client guessing one account: three free mistakes (the old per-account rule).
const PER_ACCOUNT_ADDRESS_FREE_FAILURES = 3;
// All untrusted clients of one account together: a few more, as they may be several people.
const PER_ACCOUNT_FREE_FAILURES = 5;
// A trusted device: its owner mistyping, or someone holding a stolen cookie.
const PER_DEVICE_FREE_FAILURES = 5;
// Failures are forgotten after an hour without one. Longer than the longest delay, so a
// guesser who keeps trying keeps the untrusted lockout, while old typos expire.
const FORGET_AFTER_MS = 60 * 60_000;

export type LoginAttempt = {
	/** The client's address (`unknown` when the adapter cannot tell). */
	address: string;
	/** The account as entered (the email, lower-cased by the input schema). */
	account: string;
	/** The nonce of a valid device cookie for this account; null for an untrusted client. */
	device: string | null;
};

export type LoginThrottle = {
	/** Call before verifying a password; an untrusted attempt takes a token from its address. */
	check(attempt: LoginAttempt, now: number): ThrottleDecision;
	recordFailure(attempt: LoginAttempt, now: number): void;
	recordSuccess(attempt: LoginAttempt): void;
};

export function createLoginThrottle(): LoginThrottle {
	const addresses = new TokenBucketThrottle<string>(PER_ADDRESS_CAPACITY, PER_ADDRESS_REFILL_MS);
	const accountAddresses = new FailureBackoff<string>(
		PER_ACCOUNT_ADDRESS_FREE_FAILURES,
		DELAYS_MS,
		10_000,
		FORGET_AFTER_MS
	);
	const accounts = new FailureBackoff<string>(
		PER_ACCOUNT_FREE_FAILURES,
		DELAYS_MS,
		10_000,
		FORGET_AFTER_MS
	);
	const devices = new FailureBackoff<string>(
		PER_DEVICE_FREE_FAILURES,
		DELAYS_MS,
		10_000,
		FORGET_AFTER_MS
	);
	// A newline cannot occur in an address or an email address, so the pair is unambiguous.
	const pair = (attempt: LoginAttempt) => `${attempt.account}\n${attempt.address}`;
	return {
		check(attempt, now) {
			if (attempt.device !== null) return devices.check(attempt.device, now);
			// Blocks first, so a blocked attempt does not also drain the address.
			const own = accountAddresses.check(pair(attempt), now);
			if (!own.ok) return own;
			const account = accounts.check(attempt.account, now);
			if (!account.ok) return account;
			return addresses.consume(attempt.address, now);
		},
		recordFailure(attempt, now) {
			if (attempt.device !== null) {
				devices.recordFailure(attempt.device, now);
				return;
			}
			accountAddresses.recordFailure(pair(attempt), now);
			accounts.recordFailure(attempt.account, now);
		},
		recordSuccess(attempt) {
			// The account-wide count is left to expire: one success somewhere must not hand a
			// distributed guesser a fresh set of free attempts.
			if (attempt.device !== null) devices.reset(attempt.device);
			else accountAddresses.reset(pair(attempt));
		}
	};
}

const THROTTLE_KEY = Symbol.for('ensemble.loginThrottle');
type ThrottleGlobal = { [THROTTLE_KEY]?: LoginThrottle };

/** The process-wide login throttle (per replica: each replica counts its own attempts). */
export function getLoginThrottle(): LoginThrottle {
	const store = globalThis as ThrottleGlobal;
	return (store[THROTTLE_KEY] ??= createLoginThrottle());
}
