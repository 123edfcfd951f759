import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { AccessToken } from 'livekit-server-sdk';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import {
	createBlankStudy,
	createStage,
	type Stage,
	type StudyDefinition
} from '../../src/lib/study';
import { nextMessage, opened, openSocket } from '../support/app';
import { startLiveKitFake, type LiveKitFake } from '../support/livekit-fake';
import { requireService } from '../support/services';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type AdminApi,
	type StudyServer
} from '../support/study-server';

// Our side of LiveKit's recording and webhook contract, against the fake LiveKit: a recorded
// conversation stage starts a room-composite egress when the room enters it and stops it when
// the room moves on (closing the LiveKit room), with the egress logged in the room; LiveKit webhooks signed with the SDK
// land once as room events, forged, stale and replayed ones do not; LiveKit failing to record
// is logged and the study goes on.
setDefaultTimeout(90_000);

type LogEvent = { seq: number; name: string; payload: Record<string, unknown> };

const pg = requireService('TEST_DATABASE_URL', 'LiveKit recording tests on Postgres');
const targets = [
	{ name: 'pglite', url: null as string | null, available: true },
	{ name: 'postgres', url: pg.available ? pg.url : null, available: pg.available }
];

/** Two seats; the room talks (recorded) for `seconds`, then ends. */
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
	const stages: Stage[] = [
		{ ...talk, id: 'talk', advance: 'timer', durationSeconds: seconds },
		{ ...createStage('end', []), id: 'end' }
	];
	study.stages = stages;
	return study;
}

/** A webhook body as LiveKit sends it, signed the way LiveKit signs it (SDK AccessToken + sha256). */
async function signWebhook(
	fake: LiveKitFake,
	event: Record<string, unknown>,
	secret = fake.apiSecret
): Promise<{ body: string; authorization: string }> {
	const body = JSON.stringify(event);
	const token = new AccessToken(fake.apiKey, secret);
	const digest = new Uint8Array(
		await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body))
	);
	token.sha256 = btoa(String.fromCharCode(...digest));
	return { body, authorization: await token.toJwt() };
}

for (const target of targets) {
	describe.skipIf(!target.available)(`LiveKit recording and webhooks on ${target.name}`, () => {
		let fake: LiveKitFake;
		let setup: StudyServer;
		let api: AdminApi;

		beforeAll(async () => {
			fake = startLiveKitFake();
			setup = await startStudyServer(target.url, {
				LIVEKIT_URL: fake.url,
				LIVEKIT_API_KEY: fake.apiKey,
				LIVEKIT_API_SECRET: fake.apiSecret
			});
			api = createAdminApi(setup.server, setup.admin);
		});
		afterAll(async () => {
			await setup?.stop();
			await fake?.stop();
		});

		/** Two bots form a room of the study; its id once they are in. */
		async function startRoom(definition: StudyDefinition): Promise<string> {
			const study = await publishStudy(api, definition, 'Recorded talk');
			await api('POST', `/api/studies/${study.id}/bots`, { count: 2, thinkMs: [10, 50], seed: 3 });
			for (let i = 0; i < 200; i++) {
				const { bots } = await api<{ bots: { roomId: string | null }[] }>(
					'GET',
					`/api/studies/${study.id}/bots`
				);
				if (bots.length === 2 && bots[0]!.roomId) return bots[0]!.roomId;
				await Bun.sleep(100);
			}
			throw new Error('no room formed');
		}

		/** The room's whole log, read over the experimenter's socket. */
		async function readLog(roomId: string): Promise<LogEvent[]> {
			const socket = openSocket(setup.server, `/realtime/rooms/${roomId}`, { cookie: setup.admin });
			await opened(socket);
			const events: LogEvent[] = [];
			let head = -1;
			const done = new Promise<void>((resolve) => {
				socket.addEventListener('message', (message) => {
					const frame = JSON.parse(String(message.data));
					if (frame.type === 'joined') head = frame.head;
					for (const event of frame.type === 'event' ? [frame.event] : (frame.events ?? [])) {
						events.push(event);
					}
					if (head >= 0 && events.length >= head) resolve();
				});
			});
			socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
			await done;
			socket.close();
			return events;
		}

		async function waitForLog(roomId: string, until: (log: LogEvent[]) => boolean) {
			for (let i = 0; i < 100; i++) {
				const log = await readLog(roomId);
				if (until(log)) return log;
				await Bun.sleep(200);
			}
			throw new Error('the room log never got there');
		}

		const recorded = (log: LogEvent[], kind: string) =>
			log.filter((e) => e.name === 'av.recorded' && e.payload.kind === kind);

		test('a recorded stage starts an egress on entry and stops it on leaving; both are logged', async () => {
			fake.clear();
			const roomId = await startRoom(recordedStudy(2));
			const log = await waitForLog(roomId, (l) => l.some((e) => e.name === 'room.finished'));
			const starts = fake.requests.filter((r) => r.path.endsWith('/StartRoomCompositeEgress'));
			expect(starts).toHaveLength(1);
			const start = starts[0]!;
			expect(start.authError).toBeNull();
			expect(start.claims?.video?.roomRecord).toBe(true);
			expect(start.body).toMatchObject({ roomName: `ensemble-${roomId}` });
			expect(JSON.stringify(start.body)).toContain(`ensemble/${roomId}/talk-{time}.mp4`);
			const started = recorded(log, 'egress_started');
			expect(started).toHaveLength(1);
			expect(started[0]!.payload).toMatchObject({
				egressId: expect.stringMatching(/^EG_fake\d+$/),
				stageId: 'talk',
				file: `ensemble/${roomId}/talk-{time}.mp4`
			});
			// Stopped once the room left the stage (the timer), and not again when it finished.
			await Bun.sleep(300);
			const stops = fake.requests.filter((r) => r.path.endsWith('/StopEgress'));
			const egressId = (started[0]!.payload as { egressId: string }).egressId;
			expect(stops.map((r) => (r.body as { egressId: string }).egressId)).toEqual([egressId]);
			const advanced = log.find((e) => e.name === 'stage.advanced')!;
			expect(started[0]!.seq).toBeLessThan(advanced.seq);
			// Leaving the conversation closes the LiveKit room: nobody keeps talking after it.
			const closed = fake.requests.filter((r) => r.path.endsWith('/DeleteRoom'));
			expect(closed.map((r) => r.body)).toEqual([{ room: `ensemble-${roomId}` }]);
			expect(closed[0]!.claims?.video?.roomCreate).toBe(true);
		});

		test('LiveKit failing to record is logged, and the study goes on to its end', async () => {
			fake.mode = 'error';
			try {
				const roomId = await startRoom(recordedStudy(1));
				const log = await waitForLog(roomId, (l) => l.some((e) => e.name === 'room.finished'));
				const failed = recorded(log, 'recording_failed');
				expect(failed).toHaveLength(1);
				expect(failed[0]!.payload).toMatchObject({ stageId: 'talk' });
				expect(String(failed[0]!.payload.message)).toContain('answered 500');
				expect(
					log.filter((e) => e.name === 'member.outcome').map((e) => e.payload.outcome)
				).toEqual(['completed', 'completed']);
			} finally {
				fake.mode = 'ok';
			}
		});

		test('webhooks: signed ones land once; forged, stale and foreign ones do not', async () => {
			const roomId = await startRoom(recordedStudy(30));
			const now = Math.floor(Date.now() / 1000);
			const joined = {
				id: 'EV_joined_1',
				event: 'participant_joined',
				createdAt: String(now),
				room: { name: `ensemble-${roomId}` },
				participant: { identity: 'p-someone' }
			};
			const post = (signed: { body: string; authorization: string }) =>
				fetch(`${setup.server.url}/livekit/webhook`, {
					method: 'POST',
					headers: {
						'content-type': 'application/webhook+json',
						authorization: signed.authorization
					},
					body: signed.body
				});
			const first = await post(await signWebhook(fake, joined));
			expect(first.status).toBe(200);
			expect(await first.json()).toEqual({ outcome: 'recorded' });
			// LiveKit retrying (or someone replaying) the same webhook: accepted, logged once.
			expect((await post(await signWebhook(fake, joined))).status).toBe(200);

			const forged = await post(
				await signWebhook(fake, { ...joined, id: 'EV_2' }, 'not-the-secret-at-all-0123456789')
			);
			expect(forged.status).toBe(401);
			const tampered = await signWebhook(fake, { ...joined, id: 'EV_3' });
			const swapped = await post({
				body: JSON.stringify({ ...joined, id: 'EV_3', participant: { identity: 'p-evil' } }),
				authorization: tampered.authorization
			});
			expect(swapped.status).toBe(401);
			const unsigned = await fetch(`${setup.server.url}/livekit/webhook`, {
				method: 'POST',
				headers: { 'content-type': 'application/webhook+json' },
				body: JSON.stringify(joined)
			});
			// No signature and no Origin: refused before the route, by the Origin check.
			expect(unsigned.status).toBe(403);
			const stale = await post(
				await signWebhook(fake, { ...joined, id: 'EV_4', createdAt: String(now - 3600) })
			);
			expect(stale.status).toBe(400);
			expect(await stale.json()).toMatchObject({ error: 'stale' });
			const foreign = await post(
				await signWebhook(fake, { ...joined, id: 'EV_5', room: { name: 'someone-else' } })
			);
			expect(await foreign.json()).toEqual({ outcome: 'ignored' });

			const ended = await post(
				await signWebhook(fake, {
					id: 'EV_egress_end',
					event: 'egress_ended',
					createdAt: String(now),
					egressInfo: {
						egressId: 'EG_abc',
						roomName: `ensemble-${roomId}`,
						status: 'EGRESS_COMPLETE',
						fileResults: [{ filename: 'talk.mp4', location: 's3://lab/ensemble/talk.mp4' }]
					}
				})
			);
			expect(await ended.json()).toEqual({ outcome: 'recorded' });

			const log = await readLog(roomId);
			const joins = recorded(log, 'participant_joined');
			expect(joins.map((e) => e.payload)).toEqual([
				{ kind: 'participant_joined', identity: 'p-someone', at: now * 1000 }
			]);
			expect(recorded(log, 'egress_ended').map((e) => e.payload)).toEqual([
				{
					kind: 'egress_ended',
					egressId: 'EG_abc',
					stageId: null,
					file: 's3://lab/ensemble/talk.mp4',
					status: 'EGRESS_COMPLETE',
					error: null,
					at: now * 1000
				}
			]);
			expect(JSON.stringify(log)).not.toContain('p-evil');

			// The experimenter ends the room while it talks: the stage's recording stops.
			const egressId = (recorded(log, 'egress_started')[0]!.payload as { egressId: string })
				.egressId;
			const socket = openSocket(setup.server, `/realtime/rooms/${roomId}`, { cookie: setup.admin });
			await opened(socket);
			const joinedFrame = nextMessage(socket, (m: { type: string }) => m.type === 'joined');
			socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
			await joinedFrame;
			const ack = nextMessage(socket, (m: { type: string }) => m.type === 'ack');
			socket.send(
				JSON.stringify({
					type: 'command',
					id: 'end-now',
					name: 'room.end',
					payload: { outcome: 'technical_error' }
				})
			);
			await ack;
			socket.close();
			const stopsOf = () =>
				fake.requests.filter(
					(r) =>
						r.path.endsWith('/StopEgress') && (r.body as { egressId: string }).egressId === egressId
				).length;
			for (let i = 0; i < 50 && stopsOf() === 0; i++) await Bun.sleep(100);
			expect(stopsOf()).toBe(1);
		});
	});
}
