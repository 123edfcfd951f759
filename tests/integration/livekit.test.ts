import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { TokenVerifier, type ClaimGrants } from 'livekit-server-sdk';
import postgres from 'postgres';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import {
	createBlankStudy,
	createStage,
	type Stage,
	type StudyDefinition
} from '../../src/lib/study';
import { nextMessage, opened, openSocket, signUpFirstAdmin } from '../support/app';
import { createPostgresDatabase } from '../support/databases';
import { actOnStep, joinStudy, readStep, type JourneyServer } from '../support/journey';
import { startLiveKitFake, type LiveKitFake } from '../support/livekit-fake';
import { startServer, temporaryDataDir, type RunningServer } from '../support/server';
import { requireService } from '../support/services';
import { createAdminApi, publishStudy } from '../support/study-server';

// The LiveKit control plane on the built server, against a fake LiveKit (no LiveKit server
// runs here): participants get tokens for their own room only while it is on a conversation
// stage, with grants by role; experimenters get hidden observer tokens; /readyz reports
// LiveKit without ever making the replica unready; a server without LiveKit says so.
setDefaultTimeout(90_000);

const PASSWORD = 'sturdy evening lantern';

type TokenBody = {
	url: string;
	token: string;
	roomName: string;
	identity: string;
	expiresAt: number;
};

type Readyz = {
	status: string;
	checks: Record<string, { ok: boolean; ms?: number; error?: string }>;
};

/** The built server with an admin, with `env` on top (LiveKit settings or none). */
async function startAppServer(postgresUrl: string | null, env: Record<string, string>) {
	const cleanups: (() => Promise<unknown> | void)[] = [];
	const data = temporaryDataDir();
	cleanups.push(data.remove);
	const serverEnv: Record<string, string> = { DATA_DIR: data.dir, LOG_LEVEL: 'warn', ...env };
	let sql: postgres.Sql | null = null;
	if (postgresUrl !== null) {
		const database = await createPostgresDatabase(postgresUrl);
		cleanups.push(database.drop);
		serverEnv.DATABASE_URL = database.url;
		const connection = postgres(database.url, { max: 1, onnotice: () => {} });
		sql = connection;
		cleanups.unshift(() => connection.end());
	}
	const server = await startServer(serverEnv);
	return {
		server,
		admin: await signUpFirstAdmin(server),
		sql,
		async stop() {
			await server.stop();
			for (const cleanup of cleanups) await cleanup();
		}
	};
}

/** A stage of `type` with an explicit id and `overrides` laid over the designer's defaults. */
function makeStage(type: Stage['type'], id: string, overrides: Partial<Stage> = {}): Stage {
	return { ...createStage(type, []), id, ...overrides } as Stage;
}

/**
 * A dyad (a speaker and a listener) whose room starts on an audio+video conversation that
 * only the experimenter ends, so it stays there while the test asks for tokens.
 */
function makeConversationStudy(): StudyDefinition {
	const study = createBlankStudy('Conversation');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	study.settings.roles = [
		{ id: 'speaker', name: 'Speaker', minCount: 1, maxCount: 1 },
		{ id: 'listener', name: 'Listener', minCount: 1, maxCount: 1 }
	];
	const talk = makeStage('conversation', 'talk', { advance: 'experimenter' });
	if (talk.type === 'conversation') talk.content.listenerRoles = ['listener'];
	study.stages = [talk, makeStage('end', 'end')];
	return study;
}

/** A room of one that starts on a chat and then moves (by the experimenter) to an audio-only talk. */
function makeChatFirstStudy(): StudyDefinition {
	const study = createBlankStudy('Chat first');
	study.settings.session = {
		mode: 'matched',
		groupSize: 1,
		minGroupSize: 1,
		lobbyTimeoutSeconds: 60
	};
	const talk = makeStage('conversation', 'talk', { advance: 'experimenter' });
	if (talk.type === 'conversation') talk.content.video = false;
	study.stages = [
		makeStage('chat', 'chat', { advance: 'experimenter', durationSeconds: null }),
		talk,
		makeStage('end', 'end')
	];
	return study;
}

const pg = requireService('TEST_DATABASE_URL', 'LiveKit tests on Postgres');
const targets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

for (const target of targets) {
	describe.skipIf(!target.available)(`LiveKit control plane on ${target.name}`, () => {
		let fake: LiveKitFake;
		let setup: Awaited<ReturnType<typeof startAppServer>>;
		let server: RunningServer;
		let verifier: TokenVerifier;
		let study: { id: string; slug: string };
		let roomId: string;
		/** The two members' cookies by role, once grouped. */
		const cookies: Record<string, string> = {};

		const at = (): JourneyServer => ({ base: server.url, origin: server.origin });
		const postToken = (slug: string, headers: Record<string, string>) =>
			fetch(`${server.url}/s/${slug}/livekit/token`, {
				method: 'POST',
				headers: { origin: server.origin, ...headers }
			});
		const postObserver = (id: string, headers: Record<string, string>) =>
			fetch(`${server.url}/api/rooms/${id}/livekit/token`, {
				method: 'POST',
				headers: { origin: server.origin, ...headers }
			});
		const readyz = async () => {
			const response = await fetch(`${server.url}/readyz`);
			return { status: response.status, body: (await response.json()) as Readyz };
		};

		/** Creates a researcher through an admin's invite link; returns their session cookie. */
		async function signUp(email: string): Promise<string> {
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
				body: new URLSearchParams({ name: email, email, password: PASSWORD, confirm: PASSWORD })
			});
			const cookie = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
			if (response.status !== 303 || !cookie) throw new Error(`sign-up: ${response.status}`);
			return cookie.split(';')[0]!;
		}

		beforeAll(async () => {
			fake = startLiveKitFake();
			verifier = new TokenVerifier(fake.apiKey, fake.apiSecret);
			setup = await startAppServer(target.postgres && pg.available ? pg.url : null, {
				LIVEKIT_URL: fake.url,
				LIVEKIT_API_KEY: fake.apiKey,
				LIVEKIT_API_SECRET: fake.apiSecret
			});
			server = setup.server;
			study = await publishStudy(
				createAdminApi(server, setup.admin),
				makeConversationStudy(),
				'Conversation'
			);
		});
		afterAll(async () => {
			await setup?.stop();
			await fake?.stop();
		});

		test('waiting for a group: 403 not_in_room; no cookie: 401; another site: refused', async () => {
			const first = await joinStudy(at(), study.slug);
			expect((await actOnStep(at(), study.slug, first, 'ready')).type).toBe('success');
			expect(await readStep(at(), study.slug, first)).toMatchObject({ kind: 'waiting' });
			const waiting = await postToken(study.slug, { cookie: first });
			expect(waiting.status).toBe(403);
			expect(waiting.headers.get('cache-control')).toBe('no-store');
			expect(await waiting.json()).toEqual({ error: 'not_in_room' });

			const anonymous = await postToken(study.slug, {});
			expect(anonymous.status).toBe(401);
			expect(await anonymous.json()).toEqual({ error: 'no_participant' });
			const crossSite = await postToken(study.slug, {
				cookie: first,
				origin: 'https://evil.example'
			});
			expect(crossSite.status).toBe(403);
			expect(await crossSite.json()).toMatchObject({ error: 'origin_forbidden' });

			// The second participant completes the dyad: both are in the room.
			const second = await joinStudy(at(), study.slug);
			expect((await actOnStep(at(), study.slug, second, 'ready')).type).toBe('success');
			for (const cookie of [first, second]) {
				const step = await readStep(at(), study.slug, cookie);
				expect(step).toMatchObject({ kind: 'in_room' });
				cookies[String(step!.role)] = cookie;
				roomId = String(step!.roomId);
			}
			expect(Object.keys(cookies).sort()).toEqual(['listener', 'speaker']);
		});

		test('in the room on the conversation: a verified token per member, grants by role', async () => {
			const claimsByRole: Record<string, ClaimGrants> = {};
			const identities: string[] = [];
			for (const role of ['speaker', 'listener']) {
				const before = Date.now();
				const response = await postToken(study.slug, { cookie: cookies[role]! });
				expect(response.status).toBe(200);
				expect(response.headers.get('cache-control')).toBe('no-store');
				const body = (await response.json()) as TokenBody;
				expect(body.url).toBe(fake.url.replace('http://', 'ws://'));
				expect(body.roomName).toBe(`ensemble-${roomId}`);
				expect(body.expiresAt).toBeGreaterThanOrEqual(before + 600_000);
				expect(body.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
				const claims = await verifier.verify(body.token);
				expect(claims.sub).toBe(body.identity);
				expect(claims.exp! - claims.nbf!).toBe(600);
				expect(claims.video).toMatchObject({ roomJoin: true, room: `ensemble-${roomId}` });
				claimsByRole[role] = claims;
				identities.push(body.identity);
			}
			expect(claimsByRole.speaker!.video).toMatchObject({
				canPublish: true,
				canPublishSources: ['microphone', 'camera'],
				canSubscribe: true,
				canPublishData: false
			});
			expect(claimsByRole.listener!.video).toMatchObject({
				canPublish: false,
				canPublishSources: [],
				canSubscribe: true,
				canPublishData: false
			});
			expect(claimsByRole.listener!.video?.hidden).toBeUndefined();
			expect(new Set(identities).size).toBe(2);
			if (setup.sql) {
				// The identity is the pseudonymous participant id of a member of this room.
				const rows = await setup.sql<{ id: string }[]>`
					select participant_id as id from room_members where room_id = ${roomId}`;
				expect(rows.map((r) => r.id).sort()).toEqual([...identities].sort());
			}
			// Minting is local: nothing was asked of LiveKit.
			expect(fake.requests.filter((r) => r.path.includes('Egress'))).toEqual([]);
		});

		test('a room on another stage: 409; on the talk: 200; once it ended: 403', async () => {
			const chatFirst = await publishStudy(
				createAdminApi(server, setup.admin),
				makeChatFirstStudy(),
				'Chat first'
			);
			const cookie = await joinStudy(at(), chatFirst.slug);
			expect((await actOnStep(at(), chatFirst.slug, cookie, 'ready')).type).toBe('success');
			const step = await readStep(at(), chatFirst.slug, cookie);
			expect(step).toMatchObject({ kind: 'in_room' });
			const onChat = await postToken(chatFirst.slug, { cookie });
			expect(onChat.status).toBe(409);
			expect(await onChat.json()).toEqual({ error: 'not_on_conversation' });

			// The experimenter advances the room over its socket; the log decides at once.
			const socket = openSocket(server, `/realtime/rooms/${String(step!.roomId)}`, {
				cookie: setup.admin
			});
			await opened(socket);
			const joined = nextMessage(socket, (m) => m.type === 'joined');
			socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
			await joined;
			const acked = nextMessage(socket, (m) => m.type === 'ack' || m.type === 'rejected');
			socket.send(
				JSON.stringify({
					type: 'command',
					id: 'advance-1',
					name: 'stage.advance',
					payload: { fromStageId: 'chat' }
				})
			);
			expect(await acked).toMatchObject({ type: 'ack', id: 'advance-1' });

			const onTalk = await postToken(chatFirst.slug, { cookie });
			expect(onTalk.status).toBe(200);
			const claims = await verifier.verify(((await onTalk.json()) as TokenBody).token);
			// An audio-only conversation: the microphone only.
			expect(claims.video).toMatchObject({ canPublish: true, canPublishSources: ['microphone'] });

			// Ending the talk reaches the end stage: the room is over, and so are its tokens.
			const ended = nextMessage(socket, (m) => m.type === 'ack' || m.type === 'rejected');
			socket.send(
				JSON.stringify({
					type: 'command',
					id: 'advance-2',
					name: 'stage.advance',
					payload: { fromStageId: 'talk' }
				})
			);
			expect(await ended).toMatchObject({ type: 'ack', id: 'advance-2' });
			socket.close();
			const afterEnd = await postToken(chatFirst.slug, { cookie });
			expect(afterEnd.status).toBe(403);
			expect(await afterEnd.json()).toEqual({ error: 'not_in_room' });
		});

		test('experimenters get a hidden observer token; others get 404 or 401', async () => {
			const owner = await postObserver(roomId, { cookie: setup.admin });
			expect(owner.status).toBe(200);
			expect(owner.headers.get('cache-control')).toBe('no-store');
			const body = (await owner.json()) as TokenBody;
			expect(body.identity).toMatch(/^observer-/);
			expect(body.roomName).toBe(`ensemble-${roomId}`);
			const claims = await verifier.verify(body.token);
			expect(claims.sub).toBe(body.identity);
			expect(claims.video).toEqual({
				roomJoin: true,
				room: `ensemble-${roomId}`,
				hidden: true,
				canPublish: false,
				canSubscribe: true,
				canPublishData: false
			});

			const stranger = await signUp('stranger@livekit.test');
			const hidden = await postObserver(roomId, { cookie: stranger });
			const unknown = await postObserver('no-such-room', { cookie: setup.admin });
			expect([hidden.status, unknown.status]).toEqual([404, 404]);
			expect(await hidden.json()).toEqual(await unknown.json());
			expect((await postObserver('r'.repeat(200), { cookie: setup.admin })).status).toBe(404);
			const anonymous = await postObserver(roomId, {});
			expect(anonymous.status).toBe(401);

			// Any access will do: shared for viewing, the colleague may observe.
			const share = await fetch(`${server.url}/api/studies/${study.id}/members`, {
				method: 'POST',
				headers: {
					cookie: setup.admin,
					origin: server.origin,
					'content-type': 'application/json'
				},
				body: JSON.stringify({ email: 'stranger@livekit.test', permission: 'view' })
			});
			expect(share.status).toBe(204);
			expect((await postObserver(roomId, { cookie: stranger })).status).toBe(200);
		});

		test('/readyz reports LiveKit: ok when up; degraded but ready when refused, down or slow', async () => {
			fake.clear();
			const up = await readyz();
			expect(up.status).toBe(200);
			expect(up.body.status).toBe('ready');
			expect(up.body.checks.database!.ok).toBe(true);
			expect(up.body.checks.livekit!.ok).toBe(true);
			const probe = fake.requests.find((r) => r.path.endsWith('/ListRooms'));
			expect(probe?.authError).toBeNull();
			expect(probe?.claims?.video).toEqual({ roomList: true });

			fake.mode = 'unauthorized';
			const refused = await readyz();
			expect(refused.status).toBe(200);
			expect(refused.body.status).toBe('degraded');
			expect(refused.body.checks.database!.ok).toBe(true);
			expect(refused.body.checks.livekit).toMatchObject({ ok: false });
			expect(refused.body.checks.livekit!.error).toContain('refused the credentials (401');

			fake.mode = 'slow';
			fake.slowMs = 5_000;
			const started = performance.now();
			const slow = await readyz();
			const slowMs = performance.now() - started;
			console.log(
				`[figure] ${target.name}: /readyz with a hanging LiveKit ${Math.round(slowMs)} ms`
			);
			expect(slow.status).toBe(200);
			expect(slow.body.checks.livekit!.ok).toBe(false);
			expect(slowMs).toBeLessThan(4_000);

			fake.mode = 'ok';
			await fake.stop();
			const down = await readyz();
			expect(down.status).toBe(200);
			expect(down.body.status).toBe('degraded');
			expect(down.body.checks.livekit!.ok).toBe(false);
			expect(down.body.checks.livekit!.error).toContain('unreachable');

			fake.restart();
			const back = await readyz();
			expect(back.body).toMatchObject({ status: 'ready', checks: { livekit: { ok: true } } });
		});
	});

	describe.skipIf(!target.available)(`without LiveKit on ${target.name}`, () => {
		let setup: Awaited<ReturnType<typeof startAppServer>>;

		beforeAll(async () => {
			setup = await startAppServer(target.postgres && pg.available ? pg.url : null, {
				LIVEKIT_URL: '',
				LIVEKIT_API_KEY: '',
				LIVEKIT_API_SECRET: ''
			});
		});
		afterAll(() => setup?.stop());

		test('tokens answer 503 livekit_not_configured; /readyz has no livekit check', async () => {
			const server = setup.server;
			const at: JourneyServer = { base: server.url, origin: server.origin };
			// No conversation stage can be published here: a chat study's participant asks.
			const definition = makeChatFirstStudy();
			definition.stages = definition.stages.filter((stage) => stage.type !== 'conversation');
			const study = await publishStudy(createAdminApi(server, setup.admin), definition, 'No A/V');
			const cookie = await joinStudy(at, study.slug);
			expect((await actOnStep(at, study.slug, cookie, 'ready')).type).toBe('success');
			const step = await readStep(at, study.slug, cookie);
			const response = await fetch(`${server.url}/s/${study.slug}/livekit/token`, {
				method: 'POST',
				headers: { origin: server.origin, cookie }
			});
			expect(response.status).toBe(503);
			expect(response.headers.get('cache-control')).toBe('no-store');
			expect(await response.json()).toEqual({
				error: 'livekit_not_configured',
				message: 'Set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.'
			});
			const observer = await fetch(
				`${server.url}/api/rooms/${String(step!.roomId)}/livekit/token`,
				{
					method: 'POST',
					headers: { origin: server.origin, cookie: setup.admin }
				}
			);
			expect(observer.status).toBe(503);
			expect(await observer.json()).toMatchObject({ error: 'livekit_not_configured' });

			const ready = (await (await fetch(`${server.url}/readyz`)).json()) as Readyz;
			expect(ready.status).toBe('ready');
			expect(ready.checks.livekit).toBeUndefined();
		});
	});
}
