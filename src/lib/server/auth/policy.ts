import { getEnv } from '../config/env';
import type { SessionPolicy } from './sessions';

/** Session lifetimes from configuration. */
export function getSessionPolicy(): SessionPolicy {
	const env = getEnv();
	return { idleTimeoutMs: env.sessionIdleTimeoutMs, maxLifetimeMs: env.sessionMaxLifetimeMs };
}
