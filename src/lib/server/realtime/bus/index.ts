import { createLocalNetwork } from './local';
import { createRedisBus } from './redis';
import type { Bus } from './types';

export type { Bus, BusHandler, BusStatus } from './types';
export { createLocalNetwork, type LocalNetwork } from './local';
export { createRedisBus, type RedisBus, type RedisBusOptions, type RedisBusStats } from './redis';

/**
 * Creates this replica's bus: Redis pub/sub when `redisUrl` is set, otherwise the embedded
 * default, a network of one in-process bus on which a publish reaches nobody.
 */
export function createBus(options: { redisUrl?: string; replicaId: string }): Bus {
	if (options.redisUrl)
		return createRedisBus({ url: options.redisUrl, replicaId: options.replicaId });
	return createLocalNetwork().createBus(options.replicaId);
}
