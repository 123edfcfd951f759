import { describe, expect, test } from 'bun:test';
import { AccessToken } from 'livekit-server-sdk';
import * as v from 'valibot';
import { parseClientMessage } from '../../src/lib/protocol';
import { checkStorableAddress } from '../../src/lib/server/hooks/storable-address';
import { findUnstorableField, parseForm } from '../../src/lib/server/http/form';
import { readJsonBody } from '../../src/lib/server/http/json-body';
import { receiveLiveKitWebhook } from '../../src/lib/server/livekit/webhooks';
import { storeUpload } from '../../src/lib/server/media/upload';
import {
	findUnstorableLinkParam,
	parseLinkParams
} from '../../src/lib/server/participants/link-params';
import { parseSignalBatch } from '../../src/lib/server/signals/batch';
import {
	createBlankStudy,
	parseStageResponseText,
	parseStoredStudyDefinition,
	parseStudyDefinition
} from '../../src/lib/study';

// Each trust boundary refuses text that cannot be stored (the rule in src/lib/protocol/text.ts)
// with a clear message that names the place and never repeats the text.
const RULE = /Text may not (contain|start with)/;

describe('socket frames', () => {
	test('a command with unstorable text is refused with its id, naming the path', () => {
		const frame = JSON.stringify({
			type: 'command',
			id: 'c1',
			name: 'chat.send',
			payload: { text: 'hi\u0000 there' }
		});
		const parsed = parseClientMessage(frame);
		expect(parsed).toMatchObject({ ok: false, code: 'invalid_message', commandId: 'c1' });
		if (parsed.ok) return;
		expect(parsed.message).toMatch(/^Invalid message at payload\.text: /);
		expect(parsed.message).toMatch(RULE);
		expect(parsed.message).not.toContain('there');
	});

	test('answers, telemetry and ephemeral data: values and keys, at any depth', () => {
		const cases: [unknown, RegExp][] = [
			[
				{
					type: 'command',
					id: 'c2',
					name: 'stage.submit',
					payload: { stageId: 'q', response: { answers: { q1: '\ud800' } } }
				},
				/at payload\.response\.answers\.q1: .*unpaired/
			],
			[
				{
					type: 'telemetry',
					samples: [{ id: 's', kind: 'rating', t: 1, value: { ['k\u0000']: 1 } }]
				},
				/at samples\.0\.value\.\(key\): .*U\+0000/
			],
			[{ type: 'ephemeral', kind: 'typing', data: '\ufeffhello' }, /at data: .*U\+FEFF/]
		];
		for (const [frame, expected] of cases) {
			const parsed = parseClientMessage(JSON.stringify(frame));
			expect(parsed.ok).toBe(false);
			if (!parsed.ok) expect(parsed.message).toMatch(expected);
		}
	});

	test('any other text passes: emoji, other controls, a BOM inside, U+FFFF', () => {
		const text = 'é 😀 \u0007 a\ufeffb \uffff \u2028';
		const parsed = parseClientMessage(
			JSON.stringify({ type: 'command', id: 'c3', name: 'chat.send', payload: { text } })
		);
		expect(parsed.ok && parsed.message).toMatchObject({ payload: { text } });
	});
});

describe('request bodies and forms', () => {
	const post = (body: string) =>
		new Request('http://localhost/api', {
			method: 'POST',
			body,
			headers: { 'content-type': 'application/json' }
		});
	const Schema = v.object({ title: v.string() });

	test('a JSON body with unstorable text anywhere is 400 unstorable_text, whatever the schema keeps', async () => {
		const result = await readJsonBody(post('{"title":"ok","extra":{"a":["\\u0000"]}}'), Schema);
		expect(result).toMatchObject({
			ok: false,
			problem: {
				status: 400,
				error: 'unstorable_text',
				issues: [{ path: 'extra.a.0' }]
			}
		});
		if (!result.ok) expect(result.problem.message).toMatch(RULE);
		const surrogate = await readJsonBody(post('{"title":"\\udc00"}'), Schema);
		expect(surrogate).toMatchObject({ ok: false, problem: { error: 'unstorable_text' } });
	});

	test('a body nested deeper than any we accept is refused before it is walked', async () => {
		const deep = `${'['.repeat(40)}"\\u0000"${']'.repeat(40)}`;
		expect(await readJsonBody(post(deep), v.unknown())).toMatchObject({
			ok: false,
			problem: { status: 400, error: 'invalid_body' }
		});
	});

	test('a form field with unstorable text is refused on that field', () => {
		const form = new FormData();
		form.set('name', 'Ada\u0000');
		form.set('email', 'ada@example.org');
		expect(findUnstorableField(form)).toEqual({
			field: 'name',
			message: 'Text may not contain the NUL character (U+0000).'
		});
		const parsed = parseForm(form, v.object({ name: v.string(), email: v.string() }));
		expect(parsed).toMatchObject({ ok: false, errors: { name: expect.stringMatching(RULE) } });
		const fine = new FormData();
		fine.set('name', 'Ada 😀');
		expect(findUnstorableField(fine)).toBeNull();
	});

	test("a pre-room stage's response with escaped NUL inside its JSON is refused", () => {
		const response = JSON.stringify({ type: 'group_choice', option: 'a\u0000' });
		expect(response).toContain('\\u0000');
		expect(parseStageResponseText(response)).toBeNull();
		expect(parseStageResponseText(JSON.stringify({ type: 'group_choice', option: 'a' }))).toEqual({
			type: 'group_choice',
			option: 'a'
		});
	});

	test('a signal batch with unstorable text is refused', () => {
		const batch = JSON.stringify({
			samples: [{ id: 's1', kind: 'coherence', value: 50, at: 1, note: '\u0000' }]
		});
		expect(parseSignalBatch(batch)).toMatchObject({
			ok: false,
			message: expect.stringMatching(RULE)
		});
	});
});

describe('addresses and links', () => {
	test('a route parameter that cannot be stored is 404, a query parameter 400', () => {
		const none = new URLSearchParams();
		expect(checkStorableAddress({ id: 'abc' }, new URLSearchParams('q=x'))).toEqual({ ok: true });
		expect(checkStorableAddress({ id: 'a\u0000' }, none)).toMatchObject({ ok: false, status: 404 });
		const query = checkStorableAddress({}, new URLSearchParams('q=%00'));
		expect(query).toMatchObject({ ok: false, status: 400, error: 'unstorable_text' });
		if (!query.ok)
			expect(query.message).toBe(
				'Query parameter q: Text may not contain the NUL character (U+0000).'
			);
		const name = checkStorableAddress({}, new URLSearchParams('%EF%BB%BFq=1'));
		expect(name).toMatchObject({ ok: false, status: 400 });
		// Malformed percent-encoding decodes to U+FFFD in a query: storable.
		expect(checkStorableAddress({}, new URLSearchParams('q=%FF%ED%A0%80'))).toEqual({ ok: true });
	});

	test('a study link parameter that cannot be stored refuses the link', () => {
		expect(findUnstorableLinkParam(new URLSearchParams('ref=a%00b'))).toMatch(RULE);
		expect(findUnstorableLinkParam({ ['\ud800']: 'x' })).toMatch(RULE);
		expect(findUnstorableLinkParam(new URLSearchParams('PROLIFIC_PID=abc&ref=é'))).toBeNull();
		// The parser itself is unchanged for good links.
		expect(parseLinkParams(new URLSearchParams('ref=é'), false).other).toEqual({ ref: 'é' });
	});
});

describe('study definitions', () => {
	test('a definition coming in is refused with the path of its unstorable text', () => {
		const study = createBlankStudy('Fine');
		study.settings.title = 'Bad\u0000';
		expect(parseStudyDefinition(study)).toEqual({
			ok: false,
			issues: [
				{ path: 'settings.title', message: 'Text may not contain the NUL character (U+0000).' }
			]
		});
	});

	test('a stored definition is read by its shape only, so an older one with a leading BOM still loads', () => {
		const study = createBlankStudy('Fine');
		study.settings.title = '\ufeffOld title';
		expect(parseStudyDefinition(study).ok).toBe(false);
		expect(parseStoredStudyDefinition(study).ok).toBe(true);
	});
});

describe('file names and webhooks', () => {
	test('an upload whose name cannot be stored is refused before a byte is read', async () => {
		const result = await storeUpload(null as never, null as never, {
			ownerId: 'u1',
			filename: 'clip\u0000.mp4',
			claimedType: 'video/mp4',
			body: null,
			declaredBytes: 10,
			maxBytes: 100,
			tempDir: '/nonexistent',
			now: new Date()
		});
		expect(result).toMatchObject({ ok: false, reason: 'invalid_filename' });
		if (!result.ok) expect(result.message).toMatch(RULE);
	});

	test('a LiveKit webhook with unstorable text is refused and never reaches a room', async () => {
		const config = {
			url: 'ws://livekit.invalid',
			apiKey: 'key',
			apiSecret: 'secret-secret-secret-secret-12'
		};
		const body = JSON.stringify({
			id: 'wh1',
			event: 'participant_joined',
			createdAt: Math.floor(Date.now() / 1000),
			room: { name: 'ensemble-r1' },
			participant: { identity: 'p\u0000' }
		});
		const token = new AccessToken(config.apiKey, config.apiSecret);
		const digest = new Uint8Array(
			await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body))
		);
		token.sha256 = btoa(String.fromCharCode(...digest));
		const submitted: unknown[] = [];
		const result = await receiveLiveKitWebhook({
			config,
			body,
			authorization: await token.toJwt(),
			now: Date.now(),
			submit: async (...args) => {
				submitted.push(args);
				return { ok: true };
			}
		});
		expect(result).toMatchObject({ ok: false, reason: 'invalid' });
		if (!result.ok) expect(result.message).toMatch(RULE);
		expect(submitted).toEqual([]);
	});
});
