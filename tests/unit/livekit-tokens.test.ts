import { describe, expect, test } from 'bun:test';
import { TokenVerifier } from 'livekit-server-sdk';
import { livekitRoomName, roomIdFromLivekitName } from '../../src/lib/server/livekit/room-name';
import {
	LIVEKIT_TOKEN_TTL_SECONDS,
	mintObserverToken,
	mintParticipantToken,
	toClientUrl
} from '../../src/lib/server/livekit/tokens';
import { createStage, type Stage, type StageOf } from '../../src/lib/study';

// Tokens as LiveKit reads them: decoded and verified with the SDK's own verifier, so the
// claims asserted here are the ones a LiveKit server would enforce.

const config = {
	url: 'wss://livekit.example.org',
	apiKey: 'APIkey123',
	apiSecret: 'a-secret-of-at-least-thirty-two-characters'
};
const verifier = new TokenVerifier(config.apiKey, config.apiSecret);

function conversation(content: Partial<StageOf<'conversation'>['content']> = {}) {
	const stage = createStage('conversation', []) as StageOf<'conversation'>;
	stage.content = { ...stage.content, listenerRoles: ['listener'], ...content };
	return stage;
}

async function mintFor(stage: Stage = conversation(), roleId: string | null = 'speaker') {
	const now = Date.now();
	const minted = await mintParticipantToken({
		config,
		roomId: 'r-abc123',
		participantId: 'p-pseudonym',
		stage,
		roleId,
		now
	});
	return { now, minted, claims: await verifier.verify(minted.token) };
}

describe('LiveKit room names', () => {
	test('ensemble-<roomId>, and back', () => {
		expect(livekitRoomName('r-abc123')).toBe('ensemble-r-abc123');
		expect(roomIdFromLivekitName('ensemble-r-abc123')).toBe('r-abc123');
		expect(roomIdFromLivekitName(livekitRoomName('ensemble-x'))).toBe('ensemble-x');
	});

	test('names that are not ours map to no room', () => {
		for (const name of ['other-room', 'ensemble-', 'Ensemble-r-1', '']) {
			expect({ name, roomId: roomIdFromLivekitName(name) }).toEqual({ name, roomId: null });
		}
	});
});

describe('participant tokens', () => {
	test('join their room only, as their pseudonymous id, signed with our key', async () => {
		const { minted, claims } = await mintFor();
		expect(minted.roomName).toBe('ensemble-r-abc123');
		expect(minted.identity).toBe('p-pseudonym');
		expect(minted.url).toBe('wss://livekit.example.org');
		expect(claims.iss).toBe(config.apiKey);
		expect(claims.sub).toBe('p-pseudonym');
		expect(claims.video).toMatchObject({ roomJoin: true, room: 'ensemble-r-abc123' });
		expect(claims.video?.roomAdmin).toBeUndefined();
		expect(claims.video?.roomCreate).toBeUndefined();
		expect(claims.video?.roomRecord).toBeUndefined();
		expect(claims.name).toBeUndefined();
		expect(claims.metadata).toBeUndefined();
	});

	test('a speaker publishes microphone and camera, subscribes, sends no data', async () => {
		const { claims } = await mintFor();
		expect(claims.video).toEqual({
			roomJoin: true,
			room: 'ensemble-r-abc123',
			canPublish: true,
			canPublishSources: ['microphone', 'camera'] as never,
			canSubscribe: true,
			canPublishData: false
		});
	});

	test('an audio-only stage allows the microphone only', async () => {
		const { claims } = await mintFor(conversation({ video: false }));
		expect(claims.video?.canPublishSources).toEqual(['microphone'] as never);
		expect(claims.video?.canPublish).toBe(true);
	});

	test('a listener role subscribes only', async () => {
		const { claims } = await mintFor(conversation(), 'listener');
		expect(claims.video).toMatchObject({
			canPublish: false,
			canPublishSources: [],
			canSubscribe: true,
			canPublishData: false
		});
	});

	test('another stage type grants neither publishing nor subscribing', async () => {
		const { claims } = await mintFor(createStage('chat', []));
		expect(claims.video).toMatchObject({ canPublish: false, canSubscribe: false });
	});

	test('live for ten minutes from now', async () => {
		const { now, minted, claims } = await mintFor();
		expect(LIVEKIT_TOKEN_TTL_SECONDS).toBe(600);
		expect(claims.exp! - claims.nbf!).toBe(600);
		expect(minted.expiresAt).toBe(now + 600_000);
		// The SDK stamps the JWT from the clock as it signs: within a second of `now`.
		expect(Math.abs(claims.exp! * 1000 - minted.expiresAt)).toBeLessThan(1_000);
	});

	test('a token signed with another secret does not verify', async () => {
		const { minted } = await mintFor();
		const other = new TokenVerifier(config.apiKey, 'another-secret-of-thirty-two-characters');
		await expect(other.verify(minted.token)).rejects.toThrow();
		const otherKey = new TokenVerifier('OtherKey', config.apiSecret);
		await expect(otherKey.verify(minted.token)).rejects.toThrow();
	});
});

describe('observer tokens', () => {
	test('hidden, subscribe only, identity observer-<userId>', async () => {
		const now = Date.now();
		const minted = await mintObserverToken({ config, roomId: 'r-abc123', userId: 'u-1', now });
		expect(minted).toMatchObject({
			roomName: 'ensemble-r-abc123',
			identity: 'observer-u-1',
			expiresAt: now + 600_000
		});
		const claims = await verifier.verify(minted.token);
		expect(claims.sub).toBe('observer-u-1');
		expect(claims.video).toEqual({
			roomJoin: true,
			room: 'ensemble-r-abc123',
			hidden: true,
			canPublish: false,
			canSubscribe: true,
			canPublishData: false
		});
		expect(claims.exp! - claims.nbf!).toBe(600);
	});
});

describe('client URL', () => {
	test('http(s) settings are given to browsers as ws(s)', () => {
		expect(toClientUrl('https://lk.example.org')).toBe('wss://lk.example.org');
		expect(toClientUrl('http://127.0.0.1:7880')).toBe('ws://127.0.0.1:7880');
		expect(toClientUrl('ws://localhost:7880')).toBe('ws://localhost:7880');
		expect(toClientUrl('wss://x.livekit.cloud')).toBe('wss://x.livekit.cloud');
	});
});
