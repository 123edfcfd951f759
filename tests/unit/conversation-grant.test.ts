import { describe, expect, test } from 'bun:test';
import {
	CONVERSATION_PROBLEMS,
	computeRetryDelay,
	readGrantResponse
} from '../../src/lib/client/conversation-grant';

const json = (status: number, body: unknown) =>
	new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const grant = {
	url: 'wss://lk.example.org',
	token: 'jwt',
	roomName: 'ensemble-r1',
	identity: 'm1'
};

describe('readGrantResponse', () => {
	test('reads a grant whatever unit expiresAt comes in', async () => {
		const ms = Date.UTC(2026, 10, 22, 12, 0, 0);
		for (const expiresAt of [ms, ms / 1000, new Date(ms).toISOString()]) {
			const result = await readGrantResponse(json(200, { ...grant, expiresAt }));
			expect(result).toEqual({
				ok: true,
				grant: { url: grant.url, token: grant.token, identity: 'm1', expiresAtMs: ms }
			});
		}
	});

	test('a 200 that is not a grant is worth a retry, not a crash', async () => {
		for (const body of [{}, { ...grant, expiresAt: 'soon' }, { ...grant, token: '' }]) {
			expect(await readGrantResponse(json(200, body))).toEqual({
				ok: false,
				reason: 'retry',
				message: CONVERSATION_PROBLEMS.unreachable
			});
		}
		const html = new Response('<html>bad gateway</html>', { status: 502 });
		expect((await readGrantResponse(html)).ok).toBe(false);
	});

	test('maps each refusal to what the participant should do', async () => {
		expect(await readGrantResponse(json(409, { error: 'not_on_conversation' }))).toEqual({
			ok: false,
			reason: 'stage_over'
		});
		expect(await readGrantResponse(json(503, { error: 'livekit_not_configured' }))).toEqual({
			ok: false,
			reason: 'fatal',
			message: CONVERSATION_PROBLEMS.notConfigured
		});
		expect(await readGrantResponse(json(401, { error: 'unauthorized' }))).toEqual({
			ok: false,
			reason: 'fatal',
			message: CONVERSATION_PROBLEMS.notRecognised
		});
		expect(await readGrantResponse(json(403, { error: 'forbidden' }))).toEqual({
			ok: false,
			reason: 'fatal',
			message: CONVERSATION_PROBLEMS.notInRoom
		});
		expect(await readGrantResponse(json(500, { error: 'internal' }))).toEqual({
			ok: false,
			reason: 'retry',
			message: CONVERSATION_PROBLEMS.unreachable
		});
	});
});

describe('computeRetryDelay', () => {
	test('doubles from 1 s, jittered between half and all, capped at 8 s', () => {
		for (let retry = 0; retry < 8; retry++) {
			const ceiling = Math.min(8_000, 1_000 * 2 ** retry);
			for (let i = 0; i < 200; i++) {
				const delay = computeRetryDelay(retry);
				expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
				expect(delay).toBeLessThanOrEqual(ceiling);
			}
		}
	});
});
