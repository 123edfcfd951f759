import { FailureBackoff, TokenBucketThrottle, type ThrottleDecision } from './throttle';

// Per client address: a burst of 10 sign-ins, then one every 6 s (600/h) — enough for a lab
// behind one NAT, far too slow for guessing.
const PER_ADDRESS_CAPACITY = 10;
const PER_ADDRESS_REFILL_MS = 6_000;
// Per account: three free mistakes, then 1 s, 2 s, 4 s … up to 15 min between attempts.
const PER_ACCOUNT_FREE_FAILURES = 3;
const PER_ACCOUNT_DELAYS_MS = [1, 2, 4, 8, 16, 32, 60, 120, 300, 900].map((s) => s * 1000);

export type LoginThrottle = {
	/** Call before verifying a password; counts the attempt against the address. */
	check(address: string, email: string, now: number): ThrottleDecision;
	recordFailure(email: string, now: number): void;
	recordSuccess(email: string): void;
};

export function createLoginThrottle(): LoginThrottle {
	const addresses = new TokenBucketThrottle<string>(PER_ADDRESS_CAPACITY, PER_ADDRESS_REFILL_MS);
	const accounts = new FailureBackoff<string>(PER_ACCOUNT_FREE_FAILURES, PER_ACCOUNT_DELAYS_MS);
	return {
		check(address, email, now) {
			// The account is checked first so a blocked account does not also drain the address.
			const account = accounts.check(email, now);
			if (!account.ok) return account;
			return addresses.consume(address, now);
		},
		recordFailure: (email, now) => accounts.recordFailure(email, now),
		recordSuccess: (email) => accounts.reset(email)
	};
}

const THROTTLE_KEY = Symbol.for('ensemble.loginThrottle');
type ThrottleGlobal = { [THROTTLE_KEY]?: LoginThrottle };

/** The process-wide login throttle (per replica: each replica counts its own attempts). */
export function getLoginThrottle(): LoginThrottle {
	const store = globalThis as ThrottleGlobal;
	return (store[THROTTLE_KEY] ??= createLoginThrottle());
}
