import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { join, resolve } from 'node:path';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';
import { joinStudy, type JourneyServer } from '../support/journey';
import { writeWav } from '../support/media';
import { requireService } from '../support/services';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type AdminApi,
	type StudyServer
} from '../support/study-server';
import { temporaryDataDir, type RunningServer } from '../support/server';

// Participants fetch the media of their own study version at /s/<slug>/media/<mediaId>, on the
// built server: the same bytes and headers as the library route, and nothing else.
setDefaultTimeout(90_000);

const CLIP = resolve(import.meta.dir, '../../assets/demo-clip.webm');
/** A second, different item (audio is allowed in a video stage), small enough to upload fast. */
const TONE_BYTES = 64 * 1024;

type Media = { id: string; sha256: string; sizeBytes: number };

/** Instructions, one video stage per item, the end. */
function makeFilmStudy(mediaIds: string[]): StudyDefinition {
	const study = createBlankStudy('Film club');
	const [intro, end] = study.stages;
	if (intro?.type === 'instructions') intro.content.markdown = 'You will watch a short clip.';
	const taken = [intro!.id, end!.id];
	const videos = mediaIds.map((mediaId) => {
		const stage = createStage('video', taken);
		if (stage.type !== 'video') throw new Error('expected a video stage');
		stage.content.mediaId = mediaId;
		taken.push(stage.id);
		return stage;
	});
	study.stages = [intro!, ...videos, end!];
	return study;
}

const pg = requireService('TEST_DATABASE_URL', 'participant media tests on Postgres');
const targets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

for (const target of targets) {
	describe.skipIf(!target.available)(`participant media on ${target.name}`, () => {
		const fixtures = temporaryDataDir();
		let setup: StudyServer;
		let server: RunningServer;
		let api: AdminApi;
		let clipBytes: Uint8Array<ArrayBuffer>;
		let toneBytes: Uint8Array<ArrayBuffer>;
		let clip: Media;
		let tone: Media;
		/** Version 1 plays the clip; version 2 (published after the tone was added) plays both. */
		let film: { id: string; slug: string };
		let early: string;
		let late: string;
		/** Another study, without media, and one of its participants. */
		let other: { id: string; slug: string };
		let stranger: string;

		const at = (): JourneyServer => ({ base: server.url, origin: server.origin });

		async function upload(
			bytes: Uint8Array<ArrayBuffer>,
			filename: string,
			type: string
		): Promise<Media> {
			const response = await fetch(`${server.url}/api/media`, {
				method: 'POST',
				headers: {
					cookie: setup.admin,
					origin: server.origin,
					'content-type': type,
					'x-filename': encodeURIComponent(filename)
				},
				body: bytes
			});
			expect(response.status).toBe(201);
			return ((await response.json()) as { media: Media }).media;
		}

		/** Puts `definition` into the study's draft and publishes it as a new version. */
		async function republish(studyId: string, definition: StudyDefinition): Promise<void> {
			const detail = await api<{ revision: number }>('GET', `/api/studies/${studyId}`);
			await api('PUT', `/api/studies/${studyId}`, { definition, revision: detail.revision });
			const published = await api<{ version: number }>('POST', `/api/studies/${studyId}/publish`);
			expect(published.version).toBe(2);
		}

		/** A participant's request for `mediaId` under `slug`'s path, with `cookie` if given. */
		function fetchMedia(
			slug: string,
			mediaId: string,
			cookie: string | null,
			init: RequestInit = {}
		): Promise<Response> {
			const headers = new Headers(init.headers);
			if (cookie) headers.set('cookie', cookie);
			return fetch(`${server.url}/s/${slug}/media/${mediaId}`, { ...init, headers });
		}

		beforeAll(async () => {
			setup = await startStudyServer(target.postgres && pg.available ? pg.url : null);
			server = setup.server;
			api = createAdminApi(server, setup.admin);
			clipBytes = new Uint8Array(await Bun.file(CLIP).arrayBuffer());
			const tonePath = join(fixtures.dir, 'tone.wav');
			await writeWav(tonePath, TONE_BYTES);
			toneBytes = new Uint8Array(await Bun.file(tonePath).arrayBuffer());

			clip = await upload(clipBytes, 'demo clip.webm', 'video/webm');
			film = await publishStudy(api, makeFilmStudy([clip.id]), 'Film club');
			early = await joinStudy(at(), film.slug);
			tone = await upload(toneBytes, 'tone.wav', 'audio/wav');
			await republish(film.id, makeFilmStudy([clip.id, tone.id]));
			late = await joinStudy(at(), film.slug);

			other = await publishStudy(api, createBlankStudy('No media'), 'No media');
			stranger = await joinStudy(at(), other.slug);
		});
		afterAll(async () => {
			await setup?.stop();
			fixtures.remove();
		});

		test('a participant gets the whole item with the library route’s headers', async () => {
			const response = await fetchMedia(film.slug, clip.id, early);
			expect(response.status).toBe(200);
			expect(new Uint8Array(await response.arrayBuffer())).toEqual(clipBytes);
			expect(Object.fromEntries(response.headers)).toMatchObject({
				'content-type': 'video/webm',
				'content-length': String(clipBytes.length),
				'accept-ranges': 'bytes',
				etag: `"${clip.sha256}"`,
				'cache-control': 'private',
				'content-disposition': "inline; filename*=UTF-8''demo%20clip.webm",
				'cross-origin-resource-policy': 'same-origin',
				'x-content-type-options': 'nosniff'
			});
			// Byte for byte what a signed-in researcher gets from the library.
			const library = await fetch(`${server.url}/api/media/${clip.id}/file`, {
				headers: { cookie: setup.admin }
			});
			expect(new Uint8Array(await library.arrayBuffer())).toEqual(clipBytes);
		});

		test('a range is answered 206 with exactly those bytes', async () => {
			const response = await fetchMedia(film.slug, clip.id, early, {
				headers: { range: 'bytes=100-199' }
			});
			expect(response.status).toBe(206);
			expect(response.headers.get('content-range')).toBe(`bytes 100-199/${clipBytes.length}`);
			expect(response.headers.get('content-length')).toBe('100');
			expect(new Uint8Array(await response.arrayBuffer())).toEqual(clipBytes.slice(100, 200));

			const past = await fetchMedia(film.slug, clip.id, early, {
				headers: { range: `bytes=${clipBytes.length}-` }
			});
			expect(past.status).toBe(416);
			expect(past.headers.get('content-range')).toBe(`bytes */${clipBytes.length}`);
		});

		test('HEAD answers the headers without the bytes', async () => {
			const response = await fetchMedia(film.slug, clip.id, early, { method: 'HEAD' });
			expect(response.status).toBe(200);
			expect(response.headers.get('content-length')).toBe(String(clipBytes.length));
			expect(response.headers.get('etag')).toBe(`"${clip.sha256}"`);
			expect((await response.arrayBuffer()).byteLength).toBe(0);
		});

		test('a matching ETag is answered 304 without a body', async () => {
			const response = await fetchMedia(film.slug, clip.id, early, {
				headers: { 'if-none-match': `"${clip.sha256}"` }
			});
			expect(response.status).toBe(304);
			expect((await response.arrayBuffer()).byteLength).toBe(0);
		});

		test('without a valid study cookie: 401', async () => {
			for (const method of ['GET', 'HEAD']) {
				const response = await fetchMedia(film.slug, clip.id, null, { method });
				expect(response.status).toBe(401);
				expect(response.headers.get('cache-control')).toBe('no-store');
			}
			const none = await fetchMedia(film.slug, clip.id, null);
			expect(await none.json()).toEqual({ error: 'no_participant' });
			// Another study's cookie, as the browser would never send it here, then its token
			// under this study's cookie name: neither is a participant of this study.
			expect((await fetchMedia(film.slug, clip.id, stranger)).status).toBe(401);
			const token = stranger.split('=')[1]!;
			const borrowed = await fetchMedia(film.slug, clip.id, `ensemble_p_${film.slug}=${token}`);
			expect(borrowed.status).toBe(401);
			expect(await borrowed.json()).toEqual({ error: 'no_participant' });
		});

		test('media outside the participant’s own version is not found, existing or not', async () => {
			const refusals: [string, string, string][] = [
				['an item of a later version', film.slug, tone.id],
				['an item that does not exist', film.slug, 'k3j8w2q9x7c4m5n6p2r8t3v4'],
				['an item of another study', other.slug, clip.id]
			];
			for (const [what, slug, mediaId] of refusals) {
				const cookie = slug === film.slug ? early : stranger;
				const response = await fetchMedia(slug, mediaId, cookie);
				expect(response.status, what).toBe(404);
				expect(await response.json(), what).toEqual({ error: 'not_found' });
			}
			// The later version's participant plays both items.
			const lateTone = await fetchMedia(film.slug, tone.id, late);
			expect(lateTone.status).toBe(200);
			expect(new Uint8Array(await lateTone.arrayBuffer())).toEqual(toneBytes);
			expect((await fetchMedia(film.slug, clip.id, late)).status).toBe(200);
		});
	});
}
