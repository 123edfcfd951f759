import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadTempDir } from '../../src/lib/server/media/upload';
import { createStage } from '../../src/lib/study';
import { signUpFirstAdmin } from '../support/app';
import { createPostgresDatabase } from '../support/databases';
import { isCI, requireService } from '../support/services';
import { startServer, temporaryDataDir, type RunningServer } from '../support/server';

// The media library over HTTP against the built server (`bun build/server.js`), with real clips
// made by ffmpeg.
setDefaultTimeout(60_000);

/** Small enough to upload quickly, large enough for the 2-second test clips (~35 KB). */
const MEDIA_MAX_SIZE = 100 * 1024;
/** Below MEDIA_MAX_SIZE, so the per-route body limit is visible. */
const BODY_SIZE_LIMIT = 16 * 1024;
const PASSWORD = 'sturdy evening lantern';

const ffmpeg = Bun.which('ffmpeg');
if (!ffmpeg) {
	if (isCI) throw new Error('ffmpeg is not installed, but CI=true: the media tests need it.');
	console.warn('\n!!! SKIPPED: media HTTP tests — install ffmpeg (and ffprobe) to run them.\n');
}
const hasX264 =
	ffmpeg !== null &&
	Bun.spawnSync([ffmpeg, '-hide_banner', '-encoders']).stdout.toString().includes('libx264');

const fixtures = mkdtempSync(join(tmpdir(), 'ensemble-media-fixtures-'));
const clip = { webm: join(fixtures, 'clip.webm'), mp4: join(fixtures, 'clip.mp4') };

function makeClip(output: string, codecs: string[]): void {
	const result = Bun.spawnSync([
		ffmpeg!,
		...['-v', 'error', '-y'],
		...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25'],
		...['-f', 'lavfi', '-i', 'sine'],
		...['-t', '2', ...codecs, output]
	]);
	if (result.exitCode !== 0) throw new Error(`ffmpeg failed: ${result.stderr.toString()}`);
}

beforeAll(() => {
	if (!ffmpeg) return;
	makeClip(clip.webm, ['-c:v', 'libvpx-vp9', '-c:a', 'libopus']);
	if (hasX264) makeClip(clip.mp4, ['-c:v', 'libx264', '-c:a', 'aac', '-movflags', '+faststart']);
	else console.warn('\n!!! SKIPPED: the H.264 MP4 case — this ffmpeg has no libx264 encoder.\n');
});
afterAll(() => rmSync(fixtures, { recursive: true, force: true }));

type Media = {
	id: string;
	filename: string;
	kind: string;
	contentType: string;
	sizeBytes: number;
	sha256: string;
	durationSeconds: number | null;
	width: number | null;
	height: number | null;
	owner: { id: string; name: string } | null;
	url: string;
};

type Target = {
	name: 'pglite' | 'postgres';
	available: boolean;
	env: () => Promise<{
		env: Record<string, string>;
		cleanup: () => Promise<void>;
	}>;
};

const pg = requireService('TEST_DATABASE_URL', 'media HTTP tests on Postgres');
const targets: Target[] = [
	{
		name: 'pglite',
		available: true,
		env: async () => {
			const data = temporaryDataDir();
			return { env: { DATA_DIR: data.dir }, cleanup: async () => data.remove() };
		}
	},
	{
		name: 'postgres',
		available: pg.available,
		env: async () => {
			const database = await createPostgresDatabase(pg.available ? pg.url : '');
			const data = temporaryDataDir();
			return {
				env: { DATABASE_URL: database.url, DATA_DIR: data.dir },
				cleanup: async () => {
					await database.drop();
					data.remove();
				}
			};
		}
	}
];

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher('sha256').update(bytes).digest('hex');

/** A body that arrives in chunks without Content-Length (chunked transfer encoding). */
function chunkedBody(bytes: Uint8Array, chunkSize = 16 * 1024): ReadableStream<Uint8Array> {
	let offset = 0;
	return new ReadableStream({
		pull(controller) {
			if (offset >= bytes.length) return controller.close();
			controller.enqueue(bytes.subarray(offset, offset + chunkSize));
			offset += chunkSize;
		}
	});
}

for (const target of targets) {
	describe.skipIf(!target.available || !ffmpeg)(`media library on ${target.name}`, () => {
		let server: RunningServer;
		let dataDir: string;
		let cleanup: () => Promise<void>;
		let admin: string;
		let viewer: string;
		let researcher: string;
		let webmBytes: Uint8Array<ArrayBuffer>;
		let webm: Media;

		/** Files in DATA_DIR/media and in the upload spool. */
		const storedFiles = () =>
			[join(dataDir, 'media'), uploadTempDir(dataDir)].flatMap((dir) =>
				existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : []
			);

		function api(path: string, cookie: string | null, init: RequestInit = {}) {
			const headers = new Headers(init.headers);
			if (cookie) headers.set('cookie', cookie);
			if (init.method && init.method !== 'GET' && init.method !== 'HEAD') {
				headers.set('origin', server.origin);
			}
			return fetch(`${server.url}${path}`, { ...init, headers, redirect: 'manual' });
		}

		function upload(
			cookie: string | null,
			body: BodyInit,
			filename: string,
			type: string,
			headers: Record<string, string> = {}
		) {
			return api('/api/media', cookie, {
				method: 'POST',
				headers: { 'content-type': type, 'x-filename': encodeURIComponent(filename), ...headers },
				body
			});
		}

		async function listMedia(cookie: string): Promise<Media[]> {
			const response = await api('/api/media', cookie);
			expect(response.status).toBe(200);
			return ((await response.json()) as { media: Media[] }).media;
		}

		/** An account in `role`, created through an invite link; returns its session cookie. */
		async function invite(role: 'viewer' | 'researcher', email: string): Promise<string> {
			const created = await api('/api/invites', admin, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ role, email })
			});
			expect(created.status).toBe(201);
			const { url } = (await created.json()) as { url: string };
			const accepted = await api(new URL(url).pathname, null, {
				method: 'POST',
				headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
				body: new URLSearchParams({ name: role, email, password: PASSWORD, confirm: PASSWORD })
			});
			expect(accepted.status).toBe(303);
			const cookie = accepted.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
			return cookie!.split(';')[0]!;
		}

		beforeAll(async () => {
			const setup = await target.env();
			cleanup = setup.cleanup;
			dataDir = setup.env.DATA_DIR!;
			server = await startServer({
				...setup.env,
				MEDIA_MAX_SIZE: String(MEDIA_MAX_SIZE),
				BODY_SIZE_LIMIT: String(BODY_SIZE_LIMIT)
			});
			admin = await signUpFirstAdmin(server);
			viewer = await invite('viewer', 'vera@media.test');
			researcher = await invite('researcher', 'rhea@media.test');
			webmBytes = new Uint8Array(await Bun.file(clip.webm).arrayBuffer());
		});
		afterAll(async () => {
			await server?.stop();
			await cleanup?.();
		});

		test('a WebM clip is stored with what ffprobe found', async () => {
			expect(webmBytes.length).toBeLessThan(MEDIA_MAX_SIZE);
			const response = await upload(admin, webmBytes, 'Ölfarben clip.webm', 'video/webm');
			expect(response.status).toBe(201);
			webm = ((await response.json()) as { media: Media }).media;
			expect(webm).toMatchObject({
				filename: 'Ölfarben clip.webm',
				kind: 'video',
				contentType: 'video/webm',
				sizeBytes: webmBytes.length,
				sha256: sha256(webmBytes),
				width: 320,
				height: 240,
				url: `/api/media/${webm.id}/file`
			});
			expect(Math.abs(webm.durationSeconds! - 2)).toBeLessThan(0.1);
			expect(webm.owner?.name).toBe('Ada Admin');
			expect(response.headers.get('location')).toBe(`/api/media/${webm.id}`);

			expect((await listMedia(admin)).map((m) => m.id)).toEqual([webm.id]);
			const single = await api(`/api/media/${webm.id}`, admin);
			expect(((await single.json()) as { media: Media }).media).toEqual(webm);
			expect(storedFiles()).toEqual([join(dataDir, 'media', webm.id)]);
		});

		test('the bytes are served whole and by range, identical to the file on disk', async () => {
			const size = webmBytes.length;
			const full = await api(webm.url, admin);
			expect(full.status).toBe(200);
			expect(full.headers.get('content-type')).toBe('video/webm');
			expect(full.headers.get('content-length')).toBe(String(size));
			expect(full.headers.get('accept-ranges')).toBe('bytes');
			expect(full.headers.get('etag')).toBe(`"${webm.sha256}"`);
			expect(full.headers.get('cache-control')).toBe('private');
			expect(full.headers.get('x-content-type-options')).toBe('nosniff');
			expect(new Uint8Array(await full.arrayBuffer())).toEqual(webmBytes);

			const ranges: [string, number, number][] = [
				['bytes=0-99', 0, 99],
				['bytes=100-', 100, size - 1],
				['bytes=-50', size - 50, size - 1]
			];
			for (const [range, start, end] of ranges) {
				const partial = await api(webm.url, admin, { headers: { range } });
				expect(partial.status).toBe(206);
				expect(partial.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
				expect(partial.headers.get('content-length')).toBe(String(end - start + 1));
				expect(new Uint8Array(await partial.arrayBuffer())).toEqual(
					webmBytes.subarray(start, end + 1)
				);
			}

			const unsatisfiable = await api(webm.url, admin, { headers: { range: `bytes=${size}-` } });
			expect(unsatisfiable.status).toBe(416);
			expect(unsatisfiable.headers.get('content-range')).toBe(`bytes */${size}`);

			const head = await api(webm.url, admin, { method: 'HEAD' });
			expect(head.status).toBe(200);
			expect(head.headers.get('content-length')).toBe(String(size));
			expect((await head.arrayBuffer()).byteLength).toBe(0);

			const cached = await api(webm.url, admin, {
				headers: { 'if-none-match': `"${webm.sha256}"` }
			});
			expect(cached.status).toBe(304);
		});

		test.skipIf(!hasX264)('an H.264 MP4 is stored as video/mp4', async () => {
			const bytes = new Uint8Array(await Bun.file(clip.mp4).arrayBuffer());
			const response = await upload(admin, bytes, 'clip.mp4', 'video/mp4');
			expect(response.status).toBe(201);
			const { media } = (await response.json()) as { media: Media };
			expect(media).toMatchObject({
				kind: 'video',
				contentType: 'video/mp4',
				width: 320,
				height: 240
			});
			expect(Math.abs(media.durationSeconds! - 2)).toBeLessThan(0.1);
			expect((await api(`/api/media/${media.id}`, admin, { method: 'DELETE' })).status).toBe(204);
		});

		test('a .mp4 that is really WebM is accepted and served as WebM', async () => {
			const response = await api('/api/media?filename=renamed.mp4', admin, {
				method: 'POST',
				headers: { 'content-type': 'video/mp4' },
				body: webmBytes
			});
			expect(response.status).toBe(201);
			const { media } = (await response.json()) as { media: Media };
			expect(media).toMatchObject({ filename: 'renamed.mp4', contentType: 'video/webm' });
			expect((await api(`/api/media/${media.id}`, admin, { method: 'DELETE' })).status).toBe(204);
		});

		test('a text file named fake.mp4 is refused with 415 and nothing is kept', async () => {
			const before = storedFiles();
			const response = await upload(
				admin,
				'These are meeting notes, not a video.\n'.repeat(50),
				'fake.mp4',
				'video/mp4'
			);
			expect(response.status).toBe(415);
			const body = (await response.json()) as { error: string; message: string };
			expect(body.error).toBe('unsupported_type');
			expect(body.message).toContain('fake.mp4');
			expect((await listMedia(admin)).map((m) => m.id)).toEqual([webm.id]);
			expect(storedFiles()).toEqual(before);
		});

		test('an upload over MEDIA_MAX_SIZE is refused with 413, declared or streamed', async () => {
			const before = storedFiles();
			const big = new Uint8Array(MEDIA_MAX_SIZE + 50 * 1024);
			big.set(webmBytes);
			const declared = await upload(admin, big, 'big.webm', 'video/webm');
			expect(declared.status).toBe(413);
			expect(((await declared.json()) as { message: string }).message).toContain('100 KB');

			const streamed = await upload(admin, chunkedBody(big), 'big.webm', 'video/webm');
			expect(streamed.status).toBe(413);
			expect(((await streamed.json()) as { error: string }).error).toBe('too_large');
			expect((await listMedia(admin)).map((m) => m.id)).toEqual([webm.id]);
			expect(storedFiles()).toEqual(before);
		});

		test('other requests keep BODY_SIZE_LIMIT while uploads may be larger', async () => {
			const form = new URLSearchParams({ email: 'x@example.org', password: 'x'.repeat(40_000) });
			const login = await api('/login', null, {
				method: 'POST',
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				body: form
			});
			expect(login.status).toBe(413);
			const chunked = await api('/login', null, {
				method: 'POST',
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				body: chunkedBody(new TextEncoder().encode(form.toString()))
			});
			expect(chunked.status).toBe(411);
			// The WebM upload above was bigger than BODY_SIZE_LIMIT.
			expect(webmBytes.length).toBeGreaterThan(BODY_SIZE_LIMIT);
		});

		test('viewers see the library but cannot upload or delete', async () => {
			expect((await listMedia(viewer)).map((m) => m.id)).toEqual([webm.id]);
			expect((await api(webm.url, viewer)).status).toBe(200);
			const refused = await upload(viewer, webmBytes, 'mine.webm', 'video/webm');
			expect(refused.status).toBe(403);
			expect((await api(`/api/media/${webm.id}`, viewer, { method: 'DELETE' })).status).toBe(403);
			expect((await listMedia(admin)).length).toBe(1);
		});

		test('without a session nothing is listed, served or stored', async () => {
			expect((await api('/api/media', null)).status).toBe(401);
			expect((await api(webm.url, null)).status).toBe(401);
			expect((await upload(null, webmBytes, 'anon.webm', 'video/webm')).status).toBe(401);
		});

		test('only the uploader or an admin deletes an item', async () => {
			const response = await upload(researcher, webmBytes, 'rhea.webm', 'video/webm');
			expect(response.status).toBe(201);
			const { media } = (await response.json()) as { media: Media };
			const other = await api(`/api/media/${webm.id}`, researcher, { method: 'DELETE' });
			expect(other.status).toBe(403);
			expect((await api(`/api/media/${media.id}`, admin, { method: 'DELETE' })).status).toBe(204);
			expect(existsSync(join(dataDir, 'media', media.id))).toBe(false);
		});

		test('the dashboard page lists the item with an upload control', async () => {
			const page = await api('/media', admin);
			expect(page.status).toBe(200);
			const html = await page.text();
			expect(html).toContain('Upload media');
			expect(html).toContain('Ölfarben clip.webm');
		});

		test('deleting is refused with 409 while a live study plays the item, allowed once it closes', async () => {
			const json = async (path: string, method: string, body?: unknown) => {
				const response = await api(path, admin, {
					method,
					headers: { 'content-type': 'application/json' },
					body: body === undefined ? undefined : JSON.stringify(body)
				});
				expect(response.status, `${method} ${path}: ${await response.clone().text()}`).toBeLessThan(
					300
				);
				return (await response.json()) as Record<string, unknown>;
			};
			// A study whose video stage plays the clip, published through the studies API.
			const { id } = (await json('/api/studies', 'POST', { title: 'Trust game' })) as {
				id: string;
			};
			const study = (await json(`/api/studies/${id}`, 'GET')) as {
				revision: number;
				draft: { stages: unknown[] };
			};
			const video = createStage('video', ['instructions', 'end']);
			if (video.type !== 'video') throw new Error('expected a video stage');
			video.content.mediaId = webm.id;
			study.draft.stages.splice(1, 0, video);
			await json(`/api/studies/${id}`, 'PUT', {
				definition: study.draft,
				revision: study.revision
			});
			await json(`/api/studies/${id}/publish`, 'POST');

			const refused = await api(`/api/media/${webm.id}`, admin, { method: 'DELETE' });
			expect(refused.status).toBe(409);
			expect(await refused.json()).toMatchObject({ error: 'in_use', studies: ['Trust game'] });
			expect(existsSync(join(dataDir, 'media', webm.id))).toBe(true);
			// Paused still counts as in use; closed does not.
			await json(`/api/studies/${id}/pause`, 'POST');
			expect((await api(`/api/media/${webm.id}`, admin, { method: 'DELETE' })).status).toBe(409);
			await json(`/api/studies/${id}/close`, 'POST');
		});

		test('deleting removes the row and the file', async () => {
			const deleted = await api(`/api/media/${webm.id}`, admin, { method: 'DELETE' });
			expect(deleted.status).toBe(204);
			expect(existsSync(join(dataDir, 'media', webm.id))).toBe(false);
			expect((await api(`/api/media/${webm.id}`, admin)).status).toBe(404);
			expect((await api(webm.url, admin)).status).toBe(404);
			expect(await listMedia(admin)).toEqual([]);
			expect((await api(`/api/media/${webm.id}`, admin, { method: 'DELETE' })).status).toBe(404);
			expect(storedFiles()).toEqual([]);
		});
	});
}
