import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { join } from 'node:path';
import { signUpFirstAdmin } from '../support/app';
import { residentMiB, writeWav } from '../support/media';
import { startServer, temporaryDataDir, type RunningServer } from '../support/server';

// A large upload must stream to disk: the server's memory may not grow with the file. Bun reads
// a whole body into memory when a Request is built from another Request, which the adapter does
// for every request; the entry hands it a RequestInit for uploads (streaming-request.ts).
setDefaultTimeout(120_000);

const UPLOAD_MIB = 384;
/** Generous headroom for buffers and GC timing; buffering the file would add ~384 MiB. */
const ALLOWED_GROWTH_MIB = 128;

describe('a large media upload', () => {
	const data = temporaryDataDir();
	let server: RunningServer;
	let cookie: string;
	const file = join(data.dir, 'large.wav');

	beforeAll(async () => {
		await writeWav(file, UPLOAD_MIB * 1024 * 1024);
		server = await startServer({ DATA_DIR: data.dir, LOG_LEVEL: 'warn', MEDIA_MAX_SIZE: '1G' });
		cookie = await signUpFirstAdmin(server);
	});
	afterAll(async () => {
		await server?.stop();
		data.remove();
	});

	test(`of ${UPLOAD_MIB} MiB streams to disk without growing the server's memory`, async () => {
		const pid = server.process.pid;
		const before = await residentMiB(pid);
		let peak = before;
		const sampler = setInterval(() => {
			void residentMiB(pid).then((mib) => (peak = Math.max(peak, mib)));
		}, 20);
		try {
			const response = await fetch(`${server.url}/api/media`, {
				method: 'POST',
				headers: {
					origin: server.origin,
					cookie,
					'content-type': 'audio/wav',
					'x-filename': 'large.wav'
				},
				body: Bun.file(file)
			});
			expect(response.status).toBe(201);
			const { media } = (await response.json()) as { media: { sizeBytes: number } };
			expect(media.sizeBytes).toBe(UPLOAD_MIB * 1024 * 1024);
		} finally {
			clearInterval(sampler);
		}
		console.log(`server RSS ${before.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB during`);
		expect(peak - before).toBeLessThan(ALLOWED_GROWTH_MIB);
	});
});
