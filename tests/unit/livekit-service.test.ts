import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { AccessToken, EgressClient, EncodedFileOutput } from 'livekit-server-sdk';
import { createLiveKitService } from '../../src/lib/server/livekit/service';
import { findFreePort } from '../support/server';
import { startLiveKitFake, type LiveKitFake } from '../support/livekit-fake';

// The LiveKit service wrapper against the fake LiveKit: what goes over the wire (path, body,
// the grants of the signed request), and each failure turned into a value with a message.

let fake: LiveKitFake;
const configFor = (overrides: { url?: string; apiSecret?: string } = {}) => ({
	url: fake.url,
	apiKey: fake.apiKey,
	apiSecret: fake.apiSecret,
	...overrides
});

beforeAll(() => {
	fake = startLiveKitFake();
});
afterAll(() => fake.stop());
afterEach(() => {
	fake.mode = 'ok';
	fake.rooms = [];
	fake.restart();
	fake.clear();
});

describe('listRooms', () => {
	test('POSTs ListRooms with the names, signed with a roomList grant', async () => {
		fake.rooms = [
			{ sid: 'RM_1', name: 'ensemble-r-1', numParticipants: 2 },
			{ sid: 'RM_2', name: 'ensemble-r-2', numParticipants: 0 }
		];
		const result = await createLiveKitService(configFor()).listRooms(['ensemble-r-1']);
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.value.map((room) => [room.name, room.numParticipants])).toEqual([
			['ensemble-r-1', 2]
		]);
		expect(fake.requests).toHaveLength(1);
		const [request] = fake.requests;
		expect(request).toMatchObject({
			method: 'POST',
			path: '/twirp/livekit.RoomService/ListRooms',
			body: { names: ['ensemble-r-1'] },
			authError: null
		});
		expect(request!.claims?.iss).toBe(fake.apiKey);
		expect(request!.claims?.video).toEqual({ roomList: true });
	});

	test('a ws:// URL (as browsers use it) reaches the same HTTP API', async () => {
		const result = await createLiveKitService(
			configFor({ url: fake.url.replace('http', 'ws') })
		).listRooms();
		expect(result).toEqual({ ok: true, value: [] });
		expect(fake.requests[0]!.body).toEqual({});
	});

	test('a wrong secret is refused by LiveKit: unauthorized, naming the settings', async () => {
		const result = await createLiveKitService(
			configFor({ apiSecret: 'not-the-secret-but-long-enough-for-hs256' })
		).listRooms();
		expect(result).toMatchObject({ ok: false, reason: 'unauthorized' });
		if (result.ok) return;
		expect(result.message).toContain('LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
		expect(result.message).toContain('401');
		expect(fake.requests[0]!.claims).toBeNull();
		expect(fake.requests[0]!.authError).not.toBeNull();
	});

	test('401 and 500 answers become unauthorized and error', async () => {
		const service = createLiveKitService(configFor());
		fake.mode = 'unauthorized';
		expect(await service.listRooms()).toMatchObject({ ok: false, reason: 'unauthorized' });
		fake.mode = 'error';
		const failed = await service.listRooms();
		expect(failed).toEqual({
			ok: false,
			reason: 'error',
			message: `LiveKit at ${fake.url} answered 500: fake LiveKit failure.`
		});
	});

	test('down: unreachable, naming LIVEKIT_URL', async () => {
		await fake.stop();
		const result = await createLiveKitService(configFor()).listRooms();
		expect(result).toMatchObject({ ok: false, reason: 'unreachable' });
		if (!result.ok) expect(result.message).toContain('check LIVEKIT_URL');
	});

	test('nothing listening at all (a wrong port): unreachable', async () => {
		const url = `http://127.0.0.1:${findFreePort()}`;
		const result = await createLiveKitService(configFor({ url })).listRooms();
		expect(result).toMatchObject({ ok: false, reason: 'unreachable' });
	});

	test('slow: gives up at the timeout', async () => {
		fake.mode = 'slow';
		fake.slowMs = 2_000;
		const started = performance.now();
		const result = await createLiveKitService(configFor(), { timeoutMs: 200 }).listRooms();
		const elapsed = performance.now() - started;
		expect(result).toEqual({
			ok: false,
			reason: 'unreachable',
			message: `LiveKit at ${fake.url} did not answer within 200 ms.`
		});
		console.log(`[figure] slow LiveKit: listRooms gave up after ${Math.round(elapsed)} ms`);
		expect(elapsed).toBeLessThan(1_000);
	});
});

describe('the fake, for the egress calls to come', () => {
	test('StartRoomCompositeEgress and StopEgress are recorded with the roomRecord grant', async () => {
		const egress = new EgressClient(fake.url, fake.apiKey, fake.apiSecret);
		const output = new EncodedFileOutput({ filepath: 'rooms/r-1.mp4' });
		const started = await egress.startRoomCompositeEgress('ensemble-r-1', output);
		expect(started.egressId).toBe('EG_fake1');
		expect(started.roomName).toBe('ensemble-r-1');
		const stopped = await egress.stopEgress(started.egressId);
		expect(stopped.egressId).toBe('EG_fake1');
		expect(fake.requests.map((r) => r.path)).toEqual([
			'/twirp/livekit.Egress/StartRoomCompositeEgress',
			'/twirp/livekit.Egress/StopEgress'
		]);
		expect(fake.requests[0]!.body).toMatchObject({ roomName: 'ensemble-r-1' });
		expect(fake.requests[1]!.body).toEqual({ egressId: 'EG_fake1' });
		for (const request of fake.requests)
			expect(request.claims?.video).toEqual({ roomRecord: true });
	});

	test('a call without a token, or without the grant it needs, is refused as LiveKit does', async () => {
		const stop = (headers: Record<string, string> = {}) =>
			fetch(`${fake.url}/twirp/livekit.Egress/StopEgress`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', ...headers },
				body: '{"egressId":"EG_x"}'
			});
		const anonymous = await stop();
		expect(anonymous.status).toBe(401);
		expect(fake.requests[0]!.authError).toBe('no bearer token');
		const listOnly = new AccessToken(fake.apiKey, fake.apiSecret, { ttl: 60 });
		listOnly.addGrant({ roomList: true });
		const denied = await stop({ authorization: `Bearer ${await listOnly.toJwt()}` });
		expect(denied.status).toBe(403);
		expect(await denied.json()).toMatchObject({ code: 'permission_denied' });
	});
});
