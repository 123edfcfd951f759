import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { eq } from 'drizzle-orm';
import { getEnv } from '../config/env';
import type { Database } from '../db';
import { mediaItems } from '../db/schema/media';
import { selectMediaStorage } from './storage';
import { storeUpload, uploadTempDir } from './upload';

/** The clip templates use (see assets/README.md); found from the working directory, as drizzle/ is. */
const DEMO_CLIP = resolve('assets/demo-clip.webm');
const DEMO_FILENAME = 'Ensemble demo clip (test pattern, 15 s).webm';

export type DemoMediaResult = { ok: true; mediaId: string } | { ok: false; message: string };

/**
 * The media-library item holding the demo clip, added on first use, so studies made from a
 * video template are publishable at once. Found again by the clip's SHA-256, so it is added
 * only once even if renamed; a researcher may delete it while no live study uses it.
 */
export async function ensureDemoMedia(db: Database, ownerId: string): Promise<DemoMediaResult> {
	if (!existsSync(DEMO_CLIP))
		return { ok: false, message: `The demo clip is missing (${DEMO_CLIP}).` };
	const file = Bun.file(DEMO_CLIP);
	const sha256 = new Bun.CryptoHasher('sha256').update(await file.arrayBuffer()).digest('hex');
	const [existing] = await db
		.select({ id: mediaItems.id })
		.from(mediaItems)
		.where(eq(mediaItems.sha256, sha256))
		.limit(1);
	if (existing) return { ok: true, mediaId: existing.id };

	const env = getEnv();
	const stored = await storeUpload(db, selectMediaStorage(env)!, {
		ownerId,
		filename: DEMO_FILENAME,
		claimedType: 'video/webm',
		body: file.stream(),
		declaredBytes: file.size,
		maxBytes: Math.max(env.mediaMaxSize, file.size),
		tempDir: uploadTempDir(env.dataDir),
		now: new Date()
	});
	return stored.ok ? { ok: true, mediaId: stored.item.id } : { ok: false, message: stored.message };
}
