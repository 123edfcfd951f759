import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { resolve } from 'node:path';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import type { SyncQualitySample } from '../../src/lib/sync';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';
import { nextMessage, opened, openSocket } from '../support/app';
import { actOnStep, joinStudy, readStep, type JourneyServer } from '../support/journey';
import { requireService } from '../support/services';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type StudyServer
} from '../support/study-server';
import type { RunningServer } from '../support/server';

// The sync-quality report on the built server: a researcher's study whose room starts on a
// video stage, one participant who sends sync.quality and video.rating telemetry over their
// own socket (as the synced player does), and the endpoint's answer to the owner, a colleague
// without access, a colleague it was shared with, a script with a token and nobody.
setDefaultTimeout(90_000);

const CLIP = resolve(import.meta.dir, '../../assets/demo-clip.webm');
const PASSWORD = 'sturdy evening lantern';

type Report = {
	roomId: string;
	members: {
		memberId: string;
		stageId: string;
		samples: number;
		errorMs: { p50: number | null; p95: number | null; max: number | null };
		stalledSeconds: number;
		seeks: number;
		rttMs: { p50: number | null };
		uncertaintyMs: { p50: number | null };
		offsetMs: { p50: number | null };
	}[];
	ratings: {
		memberId: string;
		stageId: string;
		samples: number;
		firstServerTime: number;
		lastServerTime: number;
	}[];
	invalid: { syncQuality: number; ratings: number };
};

/** A room of one that starts on a video stage of `mediaId`, then the end. */
function makeFilmStudy(mediaId: string): StudyDefinition {
	const study = createBlankStudy('Sync quality');
	study.settings.session = {
		mode: 'matched',
		groupSize: 1,
		minGroupSize: 1,
		lobbyTimeoutSeconds: 60
	};
	const video = createStage('video', []);
	if (video.type !== 'video') throw new Error('expected a video stage');
	video.content.mediaId = mediaId;
	study.stages = [video, createStage('end', [video.id])];
	return study;
}

/**
 * A participant's second of playback: 20 steady samples with |error| 1 … 20 ms (so p50 10,
 * p95 19, max 20 by nearest rank), 3 stalled and 2 seeking ones with large errors that must
 * not count, and one with an unknown phase that must be skipped as invalid.
 */
function makeSyncSamples(stageId: string, t0: number) {
	const values: unknown[] = [];
	const base = { stageId, rate: 1, offsetMs: 250, rttMs: 40, uncertaintyMs: 6, seeks: 0 };
	for (let i = 1; i <= 20; i++) {
		const sample: SyncQualitySample = {
			...base,
			errorMs: i % 2 === 0 ? i : -i,
			phase: i % 3 === 0 ? 'correcting' : 'locked',
			rate: i % 3 === 0 ? 1.02 : 1
		};
		values.push(sample);
	}
	for (let i = 0; i < 3; i++) values.push({ ...base, errorMs: 1_500, phase: 'stalled', seeks: 1 });
	for (let i = 0; i < 2; i++) values.push({ ...base, errorMs: 9_000, phase: 'seeking', seeks: 2 });
	values.push({ ...base, errorMs: 3, phase: 'buffering' });
	return values.map((value, i) => ({
		id: `sq-${i}`,
		kind: 'sync.quality',
		t: t0 + i * 1_000,
		value
	}));
}

function makeRatingSamples(stageId: string, serverTime0: number) {
	return Array.from({ length: 5 }, (_, i) => ({
		id: `vr-${i}`,
		kind: 'video.rating',
		t: serverTime0 + i * 100,
		value: { stageId, mediaTime: i * 0.1, serverTime: serverTime0 + i * 100, value: i / 4 }
	}));
}

const pg = requireService('TEST_DATABASE_URL', 'sync quality tests on Postgres');
const targets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

for (const target of targets) {
	describe.skipIf(!target.available)(`sync quality report on ${target.name}`, () => {
		let setup: StudyServer;
		let server: RunningServer;
		let rhea: string;
		let ben: string;
		let study: { id: string; slug: string };
		let stageId: string;
		let roomId: string;
		let memberId: string;
		const T0 = 1_732_251_234_567;

		const at = (): JourneyServer => ({ base: server.url, origin: server.origin });
		const getReport = (path: string, headers: Record<string, string> = {}) =>
			fetch(`${server.url}${path}`, { headers });

		/** Creates an account through an admin's invite link; returns its session cookie. */
		async function signUp(email: string, name: string): Promise<string> {
			const { url } = await createAdminApi(server, setup.admin)<{ url: string }>(
				'POST',
				'/api/invites',
				{ role: 'researcher', email }
			);
			const response = await fetch(`${server.url}${new URL(url).pathname}`, {
				method: 'POST',
				redirect: 'manual',
				headers: {
					origin: server.origin,
					'content-type': 'application/x-www-form-urlencoded',
					accept: 'text/html'
				},
				body: new URLSearchParams({ name, email, password: PASSWORD, confirm: PASSWORD })
			});
			const cookie = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
			if (response.status !== 303 || !cookie) throw new Error(`sign-up: ${response.status}`);
			return cookie.split(';')[0]!;
		}

		beforeAll(async () => {
			setup = await startStudyServer(target.postgres && pg.available ? pg.url : null);
			server = setup.server;
			rhea = await signUp('rhea@sync.test', 'Rhea Researcher');
			ben = await signUp('ben@sync.test', 'Ben Researcher');

			// Rhea's study: the demo clip in a room of one.
			const upload = await fetch(`${server.url}/api/media`, {
				method: 'POST',
				headers: {
					cookie: rhea,
					origin: server.origin,
					'content-type': 'video/webm',
					'x-filename': 'demo-clip.webm'
				},
				body: await Bun.file(CLIP).bytes()
			});
			expect(upload.status).toBe(201);
			const { media } = (await upload.json()) as { media: { id: string } };
			const definition = makeFilmStudy(media.id);
			stageId = definition.stages[0]!.id;
			study = await publishStudy(createAdminApi(server, rhea), definition, 'Sync quality');

			// One participant: ready, grouped at once (a group of one), in the room.
			const cookie = await joinStudy(at(), study.slug);
			expect((await actOnStep(at(), study.slug, cookie, 'ready')).type).toBe('success');
			const step = await readStep(at(), study.slug, cookie);
			expect(step).toMatchObject({ kind: 'in_room' });
			roomId = String(step!.roomId);

			// Their socket, as the participant page opens it, and the telemetry the player sends.
			const socket = openSocket(server, `/s/${study.slug}/realtime/${roomId}`, { cookie });
			await opened(socket);
			const joined = nextMessage<{ type: string; actor: string }>(
				socket,
				(m) => m.type === 'joined'
			);
			socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
			memberId = (await joined).actor;
			for (const samples of [makeSyncSamples(stageId, T0), makeRatingSamples(stageId, T0)]) {
				const answer = nextMessage<{ type: string; accepted: number }>(
					socket,
					(m) => m.type === 'telemetry'
				);
				socket.send(JSON.stringify({ type: 'telemetry', samples }));
				expect((await answer).accepted).toBe(samples.length);
			}
			socket.close();
		});
		afterAll(() => setup?.stop());

		/** The owner's report once the telemetry writer has flushed (it batches every 250 ms). */
		async function readFlushedReport(): Promise<Report> {
			const deadline = Date.now() + 10_000;
			for (;;) {
				const response = await getReport(`/api/rooms/${roomId}/sync-quality`, { cookie: rhea });
				expect(response.status).toBe(200);
				const report = (await response.json()) as Report;
				const stored = (report.members[0]?.samples ?? 0) + report.invalid.syncQuality;
				if ((stored === 26 && report.ratings[0]?.samples === 5) || Date.now() > deadline) {
					return report;
				}
				await Bun.sleep(100);
			}
		}

		test('the owner gets the summary: nearest-rank percentiles of the steady samples', async () => {
			const report = await readFlushedReport();
			expect(report).toEqual({
				roomId,
				members: [
					{
						memberId,
						stageId,
						samples: 25,
						errorMs: { p50: 10, p95: 19, max: 20 },
						stalledSeconds: 3,
						seeks: 2,
						rttMs: { p50: 40 },
						uncertaintyMs: { p50: 6 },
						offsetMs: { p50: 250 }
					}
				],
				ratings: [{ memberId, stageId, samples: 5, firstServerTime: T0, lastServerTime: T0 + 400 }],
				invalid: { syncQuality: 1, ratings: 0 }
			});
			if (setup.sql) {
				// What the report read: every stored row of the room, the invalid one included.
				const rows = await setup.sql`select kind, count(*)::int as n from telemetry_samples
					where room_id = ${roomId} group by kind order by kind`;
				expect(rows.map((r) => [r.kind, r.n])).toEqual([
					['sync.quality', 26],
					['video.rating', 5]
				]);
			}
		});

		test('401 without a session or token', async () => {
			const response = await getReport(`/api/rooms/${roomId}/sync-quality`);
			expect(response.status).toBe(401);
			expect(await response.json()).toMatchObject({ error: 'unauthenticated' });
		});

		test('404 for an unknown room, and alike for a room of a study one cannot see', async () => {
			const unknown = await getReport('/api/rooms/no-such-room/sync-quality', { cookie: rhea });
			const hidden = await getReport(`/api/rooms/${roomId}/sync-quality`, { cookie: ben });
			expect([unknown.status, hidden.status]).toEqual([404, 404]);
			expect(await hidden.json()).toEqual(await unknown.json());
			const tooLong = await getReport(`/api/rooms/${'r'.repeat(200)}/sync-quality`, {
				cookie: rhea
			});
			expect(tooLong.status).toBe(404);
		});

		test('sharing the study (view) opens the report; admins and API tokens see it too', async () => {
			const share = await fetch(`${server.url}/api/studies/${study.id}/members`, {
				method: 'POST',
				headers: { cookie: rhea, origin: server.origin, 'content-type': 'application/json' },
				body: JSON.stringify({ email: 'ben@sync.test', permission: 'view' })
			});
			expect(share.status).toBe(204);
			const path = `/api/rooms/${roomId}/sync-quality`;
			const expected = await readFlushedReport();
			expect(await (await getReport(path, { cookie: ben })).json()).toEqual(expected);
			expect(await (await getReport(path, { cookie: setup.admin })).json()).toEqual(expected);

			const { token } = await createAdminApi(server, rhea)<{ token: string }>(
				'POST',
				'/api/tokens',
				{
					name: 'analysis'
				}
			);
			const byToken = await getReport(path, { authorization: `Bearer ${token}` });
			expect(byToken.status).toBe(200);
			expect(await byToken.json()).toEqual(expected);
		});

		test("a study room's socket tickets act as the minting user: edit → experimenter, view → observer, none → 404", async () => {
			const mint = (cookie: string, body: unknown) =>
				fetch(`${server.url}/api/rooms/${roomId}/tickets`, {
					method: 'POST',
					headers: { cookie, origin: server.origin, 'content-type': 'application/json' },
					body: JSON.stringify(body)
				});
			// Ben has view access since the test above; Cy has none.
			const cy = await signUp('cy@sync.test', 'Cy');
			expect((await mint(cy, { role: 'observer' })).status).toBe(404);
			// Nobody names an actor or a participant role any more.
			for (const body of [{ role: 'participant' }, { actor: memberId }]) {
				const refused = await mint(ben, body);
				expect(refused.status).toBe(400);
			}
			const asBen = await mint(ben, {});
			expect(asBen.status).toBe(201);
			expect(await asBen.json()).toMatchObject({
				role: 'observer',
				actor: expect.stringMatching(/^u:/)
			});
			const asRhea = await mint(rhea, {});
			expect(asRhea.status).toBe(201);
			expect(await asRhea.json()).toMatchObject({
				role: 'experimenter',
				actor: expect.stringMatching(/^u:/)
			});
			const rheaObserving = await mint(rhea, { role: 'observer' });
			expect(await rheaObserving.json()).toMatchObject({ role: 'observer' });
		});
	});
}
