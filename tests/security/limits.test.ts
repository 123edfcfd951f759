import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { and, eq } from 'drizzle-orm';
import { CloseCode, PROTOCOL_VERSION, type TelemetrySample } from '../../src/lib/protocol';
import { hashSecret } from '../../src/lib/server/auth/tokens';
import type { Database } from '../../src/lib/server/db/database';
import { telemetrySamples } from '../../src/lib/server/db/schema';
import { createLocalNetwork } from '../../src/lib/server/realtime/bus/local';
import { DEFAULT_TELEMETRY_LIMITS } from '../../src/lib/server/realtime/telemetry-quota';
import { createStudyRoomServices } from '../../src/lib/server/rooms/study-rooms';
import { measureStudyTelemetry } from '../../src/lib/server/studies/storage';
import { ingestParticipantSignals } from '../../src/lib/server/signals/ingest';
import { createBlankStudy, createStage, type Stage } from '../../src/lib/study';
import { createRoom, openSocket, signUpFirstAdmin } from '../support/app';
import { createPostgresDatabase, databaseTargets, type TestDatabase } from '../support/databases';
import { actOnStep, joinStudy, readStep } from '../support/journey';
import { seedStudyRoom } from '../support/room-seed';
import { FakeConnection, Replica, waitFor } from '../support/realtime';
import { requireService } from '../support/services';
import { makeStage, makeStudy } from '../support/room-study';
import { startServer, temporaryDataDir } from '../support/server';
import { createAdminApi, publishStudy } from '../support/study-server';

// Limits per person (issue 14, section 4): one participant, ticket or session cannot hold
// thousands of sockets, one address cannot flood upgrades, one socket cannot flood telemetry,
// and honest people are never refused. Bounded: at most 200 sockets and ~30k samples a test.
setDefaultTimeout(120_000);

let serial = 0;
const nextId = (prefix: string) =>
	`${prefix}-${++serial}-${Math.random().toString(36).slice(2, 8)}`;

// --- the hub with a real database --------------------------------------------------------------

/** A 10-minute video stage rated at 60 Hz: the heaviest honest telemetry there is. */
function ratedVideoStudy() {
	const video = makeStage('video', 'clip', { durationSeconds: 600 } as Partial<Stage>);
	if (video.type === 'video') {
		video.content.continuousRating = {
			label: 'Tension',
			min: 0,
			max: 10,
			minLabel: '',
			maxLabel: '',
			sampleRateHz: 60
		};
	}
	return makeStudy([video]);
}

/** A live study with one room of two members whose tokens are known. */
async function seedRoom(db: Database) {
	const seeded = await seedStudyRoom(db, ratedVideoStudy(), 2);
	const members = seeded.ids.map((id, i) => ({ id, token: seeded.tokens[i]! }));
	return {
		studyId: seeded.studyId,
		roomId: seeded.roomId,
		slug: seeded.slug,
		members: members as [(typeof members)[0], (typeof members)[0]]
	};
}

const join = { type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 };

function ratings(prefix: string, from: number, count: number): TelemetrySample[] {
	return Array.from({ length: count }, (_, i) => ({
		id: `${prefix}-${from + i}`,
		kind: 'video.rating',
		t: Date.now(),
		value: { stageId: 'clip', mediaTime: (from + i) / 60, serverTime: Date.now(), value: 4.5 }
	}));
}

async function storedRows(db: Database, roomId: string, actor: string): Promise<number> {
	const rows = await db
		.select({ id: telemetrySamples.sampleId })
		.from(telemetrySamples)
		.where(and(eq(telemetrySamples.roomId, roomId), eq(telemetrySamples.actor, actor)));
	return rows.length;
}

for (const target of databaseTargets('limits per person (hub)')) {
	describe.skipIf(!target.available)(`limits per person, hub, on ${target.name}`, () => {
		let database: TestDatabase;
		let db: Database;
		const replicas: Replica[] = [];
		const replica = () => {
			const created = new Replica(db, createLocalNetwork().createBus(nextId('replica')), {
				studyRooms: createStudyRoomServices(db)
			});
			replicas.push(created);
			return created;
		};

		beforeAll(async () => {
			database = await target.create();
			db = database.handle.db;
		});
		afterAll(async () => {
			for (const r of replicas) await r.hub.shutdown();
			await database?.dispose();
		});

		test('the newest socket of a participant wins; the older one is closed with 4410', async () => {
			const r = replica();
			const { roomId, members } = await seedRoom(db);
			const first = await r.join(roomId, members[0].id);
			expect(first.of('joined')).toHaveLength(1);
			const second = await r.join(roomId, members[0].id);
			expect(first.closed).toEqual({ code: 4410, reason: 'replaced by a newer connection' });
			expect(CloseCode.Replaced).toBe(4410);
			// The newer one is in the room and works; the other member is untouched.
			const other = await r.join(roomId, members[1].id);
			expect(second.closed).toBeUndefined();
			expect(other.closed).toBeUndefined();
			await second.receive({ type: 'ping', id: 1, t0: 0 });
			expect(second.of('pong')).toHaveLength(1);
			expect(r.metrics.closedReplaced).toBe(1);
		});

		test('per ticket and per session: the newest win, the older ones get 4410', async () => {
			const r = replica();
			const { roomId } = await seedRoom(db);
			const sandbox = nextId('sandbox');
			await r.store.createRoom(sandbox, 'sandbox');
			const open = (auth: FakeConnection['auth']) => {
				const connection = new FakeConnection(auth, r);
				r.hub.open(connection);
				return connection;
			};
			// Copies of one ticket count together, whoever they claim to be.
			const ticketHash = hashSecret('one-ticket');
			const viaTicket = [1, 2, 3].map((i) =>
				open({ roomId: sandbox, actor: { id: `u:t${i}`, role: 'observer' }, ticketHash })
			);
			await Bun.sleep(0);
			expect(viaTicket.map((c) => c.closed?.code)).toEqual([4410, 4410, undefined]);
			// One session: four sockets across rooms, the fifth displaces the oldest.
			const session = [roomId, sandbox, roomId, sandbox, roomId].map((room) =>
				open({ roomId: room, actor: { id: 'u:lead', role: 'experimenter' }, sessionId: 's-1' })
			);
			await Bun.sleep(0);
			expect(session.map((c) => c.closed?.code)).toEqual([
				4410,
				undefined,
				undefined,
				undefined,
				undefined
			]);
		});

		test('telemetry beyond the quota is refused with retryAfterMs; what is stored stays within it', async () => {
			const r = replica();
			const { studyId, roomId, slug, members } = await seedRoom(db);
			const [abuser, honest] = members;
			const flood = await r.join(roomId, abuser.id);
			const person = await r.join(roomId, honest.id);
			const started = Date.now();
			// The abuser: 100 full frames (30,000 samples) as fast as the hub takes them, ignoring
			// every retryAfterMs, while the honest member sends a real 60 Hz rating stream (6 every
			// 100 ms, a sync report a second).
			const abuse = (async () => {
				for (let frame = 0; frame < 100; frame++) {
					await flood.receive({ type: 'telemetry', samples: ratings('flood', frame * 300, 300) });
					await Bun.sleep(0);
				}
			})();
			const stream = (async () => {
				for (let tick = 0; tick < 30; tick++) {
					const samples = ratings('honest', tick * 6, 6);
					if (tick % 10 === 0) {
						samples.push({
							id: `sync-${tick}`,
							kind: 'sync.quality',
							t: Date.now(),
							value: { stageId: 'clip', errorMs: 3, rate: 1, offsetMs: 1, rttMs: 20 }
						});
					}
					await person.receive({ type: 'telemetry', samples });
					await Bun.sleep(100);
				}
			})();
			await Promise.all([abuse, stream]);
			const elapsedS = (Date.now() - started) / 1000;

			const answers = flood.of('telemetry');
			const accepted = answers.reduce((sum, a) => sum + a.accepted, 0);
			const refused = answers.filter((a) => a.retryAfterMs !== undefined);
			const { burstSamples, samplesPerSecond } = DEFAULT_TELEMETRY_LIMITS;
			expect(refused.length).toBeGreaterThan(0);
			for (const answer of refused) {
				expect(answer).toMatchObject({ accepted: 0 });
				expect(answer.retryAfterMs).toBeGreaterThan(0);
			}
			expect(accepted).toBeLessThanOrEqual(burstSamples + samplesPerSecond * elapsedS);
			// Sending on regardless, it spent its bytes: cut off before its frames cost more parsing.
			expect(flood.closed?.code).toBe(CloseCode.RateLimited);
			// The honest stream at its real rate: never refused.
			expect(person.of('telemetry').filter((a) => a.retryAfterMs !== undefined)).toEqual([]);
			expect(person.of('telemetry').reduce((sum, a) => sum + a.accepted, 0)).toBe(183);

			await r.telemetry.flush();
			expect(await storedRows(db, roomId, abuser.id)).toBe(accepted);
			expect(await storedRows(db, roomId, honest.id)).toBe(183);
			// The Data tab's figure: what the study's rooms store, per kind, in one query.
			const storage = await measureStudyTelemetry(db, studyId);
			expect(storage.samples).toBe(accepted + 183);
			expect(storage.kinds.map((k) => [k.kind, k.samples])).toEqual([
				['video.rating', accepted + 180],
				['sync.quality', 3]
			]);
			expect(storage.bytes).toBeGreaterThan(storage.samples * 100);

			// Posting signals over HTTP draws on the same quota: the abuser is refused there too.
			const body = JSON.stringify({
				samples: Array.from({ length: 100 }, (_, i) => ({
					id: `post-${i}`,
					kind: 'rating',
					value: 3,
					at: Date.now()
				}))
			});
			const posted = [];
			for (let i = 0; i < 25; i++) {
				const text = body.replaceAll('post-', `post${i}-`);
				posted.push(
					await ingestParticipantSignals({ db, sink: r.hub, slug, token: abuser.token, body: text })
				);
			}
			expect(posted.at(-1)).toMatchObject({ ok: false, reason: 'busy' });
			const busy = posted.find((result) => !result.ok) as { retryAfterMs: number };
			expect(busy.retryAfterMs).toBeGreaterThan(0);
		});

		test('a refused batch sent again after retryAfterMs is taken', async () => {
			const r = replica();
			const { roomId, members } = await seedRoom(db);
			const socket = await r.join(roomId, members[0].id);
			// Frames of 300 ratings (≈ 57 KB, as the client packs them): the 7th is over the burst.
			for (let frame = 0; frame < 8; frame++) {
				await socket.receive({ type: 'telemetry', samples: ratings('b', frame * 300, 300) });
			}
			const refusal = socket.of('telemetry').find((a) => a.retryAfterMs !== undefined);
			expect(refusal).toBeDefined();
			await Bun.sleep(refusal!.retryAfterMs! + 20);
			await socket.receive({ type: 'telemetry', samples: ratings('b', 2_400, 300) });
			expect(socket.of('telemetry').at(-1)).toEqual({ type: 'telemetry', accepted: 300 });
			expect(socket.closed).toBeUndefined();
		});
	});
}

// --- the built server: real sockets, real upgrades ---------------------------------------------

/** A matched dyad whose only group stage is a chat: two participants reach the room at once. */
function dyadStudy() {
	const study = createBlankStudy('Limits dyad');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 600
	};
	study.stages = [
		{ ...createStage('chat', []), id: 'talk', advance: 'experimenter', durationSeconds: null },
		{ ...createStage('end', []), id: 'end' }
	] as Stage[];
	return study;
}

/**
 * The built server, reading client addresses from X-Forwarded-For (so each test has its own),
 * with a signed-in admin. A long boot timeout: a first PGlite boot is slow on a busy machine.
 */
async function startLimitsServer(postgresUrl: string | null) {
	const cleanups: (() => Promise<unknown> | void)[] = [];
	const data = temporaryDataDir();
	cleanups.push(data.remove);
	const env: Record<string, string> = {
		DATA_DIR: data.dir,
		LOG_LEVEL: 'warn',
		ADDRESS_HEADER: 'x-forwarded-for',
		XFF_DEPTH: '1',
		SOCKET_UPGRADES_PER_MINUTE: '250'
	};
	if (postgresUrl !== null) {
		const database = await createPostgresDatabase(postgresUrl);
		cleanups.push(database.drop);
		env.DATABASE_URL = database.url;
	}
	const server = await startServer(env, 120_000);
	return {
		server,
		admin: await signUpFirstAdmin(server),
		async stop() {
			await server.stop();
			for (const cleanup of cleanups) await cleanup();
		}
	};
}

type Closed = { code: number } | null;

/** Opens a socket and reports how it ended: opened and still open (null), or its close code. */
function track(socket: WebSocket) {
	const state: { opened: boolean; closed: Closed } = { opened: false, closed: null };
	socket.addEventListener('open', () => (state.opened = true));
	socket.addEventListener('close', (event) => (state.closed = { code: event.code }));
	return state;
}

/** A raw upgrade request: the status and the response headers (lower-case names). */
async function rawUpgrade(
	server: { url: string },
	path: string,
	headers: Record<string, string>
): Promise<{ status: number; headers: Record<string, string> }> {
	const url = new URL(server.url);
	const lines = [
		`GET ${path} HTTP/1.1`,
		`Host: ${url.host}`,
		'Connection: Upgrade',
		'Upgrade: websocket',
		'Sec-WebSocket-Version: 13',
		`Sec-WebSocket-Key: ${btoa('0123456789abcdef')}`,
		...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
		'',
		''
	];
	return new Promise((resolve, reject) => {
		let received = '';
		void Bun.connect({
			hostname: url.hostname,
			port: Number(url.port),
			socket: {
				open(socket) {
					socket.write(lines.join('\r\n'));
				},
				data(socket, data) {
					received += new TextDecoder().decode(data);
					const end = received.indexOf('\r\n\r\n');
					if (end < 0) return;
					socket.end();
					const [statusLine, ...fields] = received.slice(0, end).split('\r\n');
					const parsed: Record<string, string> = {};
					for (const field of fields) {
						const at = field.indexOf(':');
						parsed[field.slice(0, at).trim().toLowerCase()] = field.slice(at + 1).trim();
					}
					resolve({
						status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine!)?.[1]),
						headers: parsed
					});
				},
				error(_socket, error) {
					reject(error);
				}
			}
		});
	});
}

const pg = requireService('TEST_DATABASE_URL', 'limits per person on Postgres (built server)');
const serverTargets = [
	{ name: 'pglite', available: true, postgresUrl: null },
	{ name: 'postgres', available: pg.available, postgresUrl: pg.available ? pg.url : null }
];

for (const target of serverTargets) {
	describe.skipIf(!target.available)(`limits per person, built server, on ${target.name}`, () => {
		let setup: Awaited<ReturnType<typeof startLimitsServer>>;
		let slug: string;
		let roomId: string;
		let cookie: string;
		let addressSerial = 0;
		/** Each test claims its own client address (the server reads X-Forwarded-For here). */
		const newAddress = () => `10.14.4.${++addressSerial}`;

		beforeAll(async () => {
			setup = await startLimitsServer(target.postgresUrl);
			const { server, admin } = setup;
			const api = createAdminApi(server, admin);
			({ slug } = await publishStudy(api, dyadStudy(), 'Limits'));
			const at = { base: server.url, origin: server.origin };
			const a = await joinStudy(at, slug);
			const b = await joinStudy(at, slug);
			for (const person of [a, b])
				expect((await actOnStep(at, slug, person, 'ready')).type).toBe('success');
			const step = await readStep(at, slug, a);
			expect(step?.kind).toBe('in_room');
			roomId = step!.roomId as string;
			cookie = a;
		});
		afterAll(() => setup?.stop());

		test('the cap holds under a burst of 200 upgrades of one participant; the newest works', async () => {
			const { server } = setup;
			const headers = { cookie, 'x-forwarded-for': newAddress() };
			const sockets = Array.from({ length: 200 }, () =>
				openSocket(server, `/s/${slug}/realtime/${roomId}`, headers)
			);
			const states = sockets.map(track);
			// Every socket opens; all but one are then told they were replaced.
			await waitFor(
				'every socket opened, all but one replaced',
				() =>
					states.every((s) => s.opened || s.closed) &&
					states.filter((s) => s.closed === null).length === 1,
				30_000
			);
			await Bun.sleep(300);
			const open = states.filter((s) => s.closed === null);
			expect(open).toHaveLength(1);
			expect(states.filter((s) => s.closed?.code === 4410)).toHaveLength(199);
			const survivor = sockets[states.indexOf(open[0]!)]!;
			const joined = new Promise<{ type: string }>((resolve) =>
				survivor.addEventListener('message', (event) => {
					const message = JSON.parse(String(event.data)) as { type: string };
					if (message.type === 'joined') resolve(message);
				})
			);
			survivor.send(JSON.stringify(join));
			expect((await joined).type).toBe('joined');
			survivor.close();
		});

		test('an experimenter session holds at most 4 room sockets; the oldest get 4410', async () => {
			const { server, admin } = setup;
			const sandbox = await createRoom(server, admin);
			const address = newAddress();
			const states: ReturnType<typeof track>[] = [];
			for (let i = 0; i < 6; i++) {
				const socket = openSocket(server, `/realtime/rooms/${sandbox}`, {
					cookie: admin,
					'x-forwarded-for': address
				});
				const state = track(socket);
				states.push(state);
				await waitFor('opened', () => state.opened || state.closed !== null);
			}
			await waitFor('two replaced', () => states.filter((s) => s.closed).length === 2);
			expect(states.map((s) => s.closed?.code ?? null)).toEqual([
				4410,
				4410,
				null,
				null,
				null,
				null
			]);
		});

		test('socket upgrades are limited per address: 429 with Retry-After, for rooms and monitors', async () => {
			const { server } = setup;
			const flooder = newAddress();
			// 250 upgrades at once per address, then ~4 a second. These would be refused later anyway
			// (no credentials), but every attempt counts.
			const started = Date.now();
			let attempts = 0;
			let room = { status: 0, headers: {} as Record<string, string> };
			while (attempts < 400) {
				room = await rawUpgrade(server, `/realtime/rooms/${roomId}`, {
					Origin: server.origin,
					'X-Forwarded-For': flooder
				});
				attempts++;
				if (room.status === 429) break;
				expect(room.status).toBe(401);
			}
			const refilled = ((Date.now() - started) / 60_000) * 250;
			expect(room.status).toBe(429);
			expect(attempts).toBeGreaterThan(250);
			expect(attempts).toBeLessThanOrEqual(251 + Math.ceil(refilled));
			expect(Number(room.headers['retry-after'])).toBeGreaterThanOrEqual(1);
			const monitor = await rawUpgrade(server, '/realtime/studies/any/monitor', {
				Origin: server.origin,
				'X-Forwarded-For': flooder
			});
			expect(monitor.status).toBe(429);
			// Another address is not affected.
			const other = await rawUpgrade(server, `/realtime/rooms/${roomId}`, {
				Origin: server.origin,
				'X-Forwarded-For': newAddress()
			});
			expect(other.status).toBe(401);
		});
	});
}
