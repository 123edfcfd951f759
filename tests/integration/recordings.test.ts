import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessToken } from 'livekit-server-sdk';
import {
	createBlankStudy,
	createStage,
	type Stage,
	type StudyDefinition
} from '../../src/lib/study';
import type { RecordingListing } from '../../src/lib/server/recordings/recordings';
import { startLiveKitFake, type LiveKitFake } from '../support/livekit-fake';
import { requireService } from '../support/services';
import { temporaryDataDir } from '../support/server';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type AdminApi,
	type StudyServer
} from '../support/study-server';

// Recordings per room with download links, on the built server with a fake LiveKit and S3
// settings (presigning needs no bucket): a recorded conversation logs its egress; the Egress
// service's webhooks report where files went. A file under DATA_DIR/recordings is streamed
// (ranges too), an object in our bucket gets a short presigned link, a file still being
// written or elsewhere is listed with the reason it has no link.
setDefaultTimeout(120_000);

const S3 = {
	S3_BUCKET: 'lab-recordings',
	// Nobody listens there: presigned URLs are computed, never fetched, by the server.
	S3_ENDPOINT: 'http://127.0.0.1:9',
	S3_REGION: 'eu-test-1',
	S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
	S3_SECRET_ACCESS_KEY: 'secret-example-key'
};

const pg = requireService('TEST_DATABASE_URL', 'recording tests on Postgres');
const targets = [
	{ name: 'pglite', url: null as string | null, available: true },
	{ name: 'postgres', url: pg.available ? pg.url : null, available: pg.available }
];

/** Two seats that talk (recorded) for `seconds`, then end. */
function recordedStudy(seconds: number): StudyDefinition {
	const study = createBlankStudy('Recorded talk');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	const talk = createStage('conversation', []);
	if (talk.type === 'conversation') talk.content.record = true;
	study.stages = [
		{ ...talk, id: 'talk', title: 'Talk', advance: 'timer', durationSeconds: seconds },
		{ ...createStage('end', []), id: 'end' }
	] as Stage[];
	return study;
}

for (const target of targets) {
	describe.skipIf(!target.available)(`recordings on ${target.name}`, () => {
		let fake: LiveKitFake;
		let setup: StudyServer;
		let api: AdminApi;
		let studyId: string;
		let roomId: string;
		const data = temporaryDataDir();

		const get = (path: string, headers: Record<string, string> = {}) =>
			fetch(`${setup.server.url}${path}`, {
				headers: { cookie: setup.admin, ...headers },
				redirect: 'manual'
			});

		/** A webhook as LiveKit signs it, about this room's egress. */
		async function postEgressEnded(id: string, egressId: string, file: Record<string, string>) {
			const body = JSON.stringify({
				id,
				event: 'egress_ended',
				createdAt: String(Math.floor(Date.now() / 1000)),
				egressInfo: {
					egressId,
					roomName: `ensemble-${roomId}`,
					status: 'EGRESS_COMPLETE',
					fileResults: [file]
				}
			});
			const token = new AccessToken(fake.apiKey, fake.apiSecret);
			const digest = new Uint8Array(
				await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body))
			);
			token.sha256 = btoa(String.fromCharCode(...digest));
			const response = await fetch(`${setup.server.url}/livekit/webhook`, {
				method: 'POST',
				headers: {
					'content-type': 'application/webhook+json',
					authorization: await token.toJwt()
				},
				body
			});
			expect(await response.json()).toEqual({ outcome: 'recorded' });
		}

		const listRecordings = async () => {
			const response = await get(`/api/studies/${studyId}/rooms/${roomId}/recordings`);
			expect(response.status).toBe(200);
			return ((await response.json()) as { recordings: RecordingListing[] }).recordings;
		};

		beforeAll(async () => {
			fake = startLiveKitFake();
			setup = await startStudyServer(target.url, {
				DATA_DIR: data.dir,
				LIVEKIT_URL: fake.url,
				LIVEKIT_API_KEY: fake.apiKey,
				LIVEKIT_API_SECRET: fake.apiSecret,
				...S3
			});
			api = createAdminApi(setup.server, setup.admin);
			const study = await publishStudy(api, recordedStudy(30), 'Recorded talk');
			studyId = study.id;
			await api('POST', `/api/studies/${studyId}/bots`, { count: 2, thinkMs: [10, 50], seed: 3 });
			for (let i = 0; i < 200 && !roomId; i++) {
				const { bots } = await api<{ bots: { roomId: string | null }[] }>(
					'GET',
					`/api/studies/${studyId}/bots`
				);
				if (bots.length === 2 && bots[0]!.roomId) roomId = bots[0]!.roomId;
				else await Bun.sleep(100);
			}
			// The room's recording starts as it enters the conversation: wait for it in the list.
			for (let i = 0; i < 100; i++) {
				if ((await listRecordings()).length > 0) break;
				await Bun.sleep(100);
			}
		});
		afterAll(async () => {
			await setup?.stop();
			await fake?.stop();
			data.remove();
		});

		test('a recording still being written is listed without a link, and says why', async () => {
			const [running] = await listRecordings();
			expect(running).toMatchObject({
				stageId: 'talk',
				status: 'recording',
				file: `ensemble/${roomId}/talk-{time}.mp4`,
				href: null,
				source: null
			});
			expect(running!.reason).toMatch(/final once the recording ends/);
			const refused = await get(
				`/api/studies/${studyId}/rooms/${roomId}/recordings/${encodeURIComponent(running!.id)}`
			);
			expect(refused.status).toBe(409);
			expect(await refused.json()).toMatchObject({ error: 'no_file' });
		});

		test('a file the Egress service wrote under DATA_DIR/recordings is streamed, with ranges', async () => {
			const [started] = await listRecordings();
			const folder = join(data.dir, 'recordings', 'ensemble', roomId);
			mkdirSync(folder, { recursive: true });
			const bytes = new Uint8Array(4_096).map((_, i) => i % 251);
			writeFileSync(join(folder, 'talk-20260101T000000.mp4'), bytes);
			// The egress wrote in its own container's /out; the suffix is what Ensemble asked for.
			await postEgressEnded('EV_local', started!.id, {
				filename: `/out/ensemble/${roomId}/talk-20260101T000000.mp4`
			});
			const listed = (await listRecordings()).find((r) => r.id === started!.id)!;
			expect(listed).toMatchObject({
				status: 'ended',
				source: 'local',
				href: `/api/studies/${studyId}/rooms/${roomId}/recordings/${started!.id}`,
				reason: null
			});
			const whole = await get(listed.href!);
			expect(whole.status).toBe(200);
			expect(whole.headers.get('content-type')).toBe('video/mp4');
			expect(whole.headers.get('content-disposition')).toContain('talk-20260101T000000.mp4');
			expect(new Uint8Array(await whole.arrayBuffer())).toEqual(bytes);
			const part = await get(listed.href!, { range: 'bytes=100-199' });
			expect(part.status).toBe(206);
			expect(part.headers.get('content-range')).toBe('bytes 100-199/4096');
			expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.slice(100, 200));
			if (setup.sql) {
				const audit = await setup.sql`select action, detail from audit_events
					where study_id = ${studyId} and action = 'recording.download' order by id`;
				expect(audit.map((row) => row.detail.source)).toEqual(['local', 'local']);
			}
		});

		test('an object in our bucket gets a fresh presigned link (5 minutes) on each click', async () => {
			await postEgressEnded('EV_s3', 'EG_upload', {
				location: `s3://lab-recordings/ensemble/${roomId}/talk-2.mp4`,
				filename: `ensemble/${roomId}/talk-2.mp4`
			});
			const listed = (await listRecordings()).find((r) => r.id === 'EG_upload')!;
			expect(listed).toMatchObject({ status: 'ended', source: 's3', reason: null });
			const response = await get(listed.href!);
			expect(response.status).toBe(303);
			expect(response.headers.get('cache-control')).toBe('no-store');
			const url = new URL(response.headers.get('location')!);
			expect(`${url.origin}${url.pathname}`).toBe(
				`http://127.0.0.1:9/lab-recordings/ensemble/${roomId}/talk-2.mp4`
			);
			expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
			expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
			expect(url.searchParams.get('X-Amz-Credential')).toMatch(
				/^AKIDEXAMPLE\/\d{8}\/eu-test-1\/s3\/aws4_request$/
			);
			expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
		});

		test('a file outside our bucket and folder is shown with its location and no link', async () => {
			await postEgressEnded('EV_gcs', 'EG_gcs', { location: 'gs://elsewhere/talk.mp4' });
			const listed = (await listRecordings()).find((r) => r.id === 'EG_gcs')!;
			expect(listed).toMatchObject({ file: 'gs://elsewhere/talk.mp4', href: null, source: null });
			expect(listed.reason).toMatch(/outside Ensemble's S3 bucket/);
		});

		test('others cannot list or download: 404 without access, 401 without a session', async () => {
			const path = `/api/studies/${studyId}/rooms/${roomId}/recordings/EG_upload`;
			expect((await fetch(`${setup.server.url}${path}`)).status).toBe(401);
			// A researcher the study is not shared with.
			const { url } = await api<{ url: string }>('POST', '/api/invites', {
				role: 'researcher',
				email: 'nosy@recordings.test'
			});
			const password = 'sturdy evening lantern';
			const signUp = await fetch(`${setup.server.url}${new URL(url).pathname}`, {
				method: 'POST',
				redirect: 'manual',
				headers: {
					origin: setup.server.origin,
					'content-type': 'application/x-www-form-urlencoded',
					accept: 'text/html'
				},
				body: new URLSearchParams({
					name: 'Nosy',
					email: 'nosy@recordings.test',
					password,
					confirm: password
				})
			});
			const nosy = signUp.headers
				.getSetCookie()
				.find((c) => c.includes('ensemble_session='))!
				.split(';')[0]!;
			for (const denied of [path, `/api/studies/${studyId}/rooms/${roomId}/recordings`]) {
				expect((await get(denied, { cookie: nosy })).status).toBe(404);
			}
			const unknown = await get(`/api/studies/${studyId}/rooms/${roomId}/recordings/EG_nope`);
			expect(unknown.status).toBe(404);
			const page = await get(`/studies/${studyId}/rooms/${roomId}`);
			expect(page.status).toBe(200);
			const html = await page.text();
			expect(html).toContain('Recordings');
			expect(html).toContain(`/recordings/EG_upload`);
		});
	});
}
