import { decodeHex, encodeHexLowerCase } from '@oslojs/encoding';
import { eq } from 'drizzle-orm';
import type { Database } from './database';
import { appSecrets } from './schema';

type KeyCache = Map<string, Promise<Uint8Array>>;
const CACHE = Symbol.for('ensemble.appSecretKeys');
type CacheGlobal = { [CACHE]?: KeyCache };

/**
 * A 256-bit signing key kept in `app_secrets` under `name`, created on first use: the first
 * replica to ask inserts a random one, every replica then reads the same row, so what one
 * signs all verify. Cached per process (on `globalThis`: the entry and the SvelteKit bundle
 * load separate copies of this module). A failed read is not cached.
 */
export function loadAppSecretKey(db: Database, name: string): Promise<Uint8Array> {
	const cache = ((globalThis as CacheGlobal)[CACHE] ??= new Map());
	const cached = cache.get(name);
	if (cached) return cached;
	const loading = (async () => {
		const fresh = new Uint8Array(32);
		crypto.getRandomValues(fresh);
		await db
			.insert(appSecrets)
			.values({ name, value: encodeHexLowerCase(fresh) })
			.onConflictDoNothing();
		const [row] = await db.select().from(appSecrets).where(eq(appSecrets.name, name));
		if (!row) throw new Error(`app secret ${name} is missing after insert`);
		return decodeHex(row.value);
	})().catch((error: unknown) => {
		cache.delete(name);
		throw error;
	});
	cache.set(name, loading);
	return loading;
}
