import { createLimiter, type Limiter } from '../concurrency';

// Argon2id with OWASP's minimum parameters (19 MiB, 2 passes): a login costs ~19 MiB while it
// runs, and the limiter bounds how many run at once.
const ARGON2 = { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 } as const;
const MAX_WAITING_HASHES = 64;

const LIMITER_KEY = Symbol.for('ensemble.passwordLimiter');
type LimiterGlobal = { [LIMITER_KEY]?: Limiter };

/** Sets how many password hashes may run at once (from configuration, at boot). */
export function configurePasswordHashing(concurrency: number): void {
	(globalThis as LimiterGlobal)[LIMITER_KEY] = createLimiter(concurrency, MAX_WAITING_HASHES);
}

function limiter(): Limiter {
	const store = globalThis as LimiterGlobal;
	return (store[LIMITER_KEY] ??= createLimiter(2, MAX_WAITING_HASHES));
}

export function hashPassword(password: string): Promise<string> {
	return limiter().run(() => Bun.password.hash(password, ARGON2));
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
	return limiter().run(() => Bun.password.verify(password, hash));
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same work as a real verification, so an unknown email answers as slowly as a
 * wrong password and response times do not reveal which accounts exist.
 */
export async function verifyAgainstDummyHash(password: string): Promise<false> {
	dummyHash ??= hashPassword('ensemble-dummy-password-for-timing');
	await verifyPassword(password, await dummyHash);
	return false;
}
