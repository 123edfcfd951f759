import { describe, expect, test } from 'bun:test';
import { parseClientMessage, PROTOCOL_VERSION, type ClientMessage } from '../../src/lib/protocol';

const valid: ClientMessage[] = [
	{ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 },
	{ type: 'join', v: PROTOCOL_VERSION, lastSeq: 12345 },
	{ type: 'command', id: 'a1b2-c3', name: 'chat.send', payload: { text: 'hi' } },
	{ type: 'command', id: 'x', name: 'room.close', payload: null },
	{ type: 'fetch', from: 3, to: 9 },
	{ type: 'ephemeral', kind: 'typing', data: { on: true } },
	{ type: 'telemetry', samples: [{ id: 's1', kind: 'rating', t: 1.5, value: 0.3 }] },
	{ type: 'ping', id: 1, t0: 1_700_000_000_000.25 }
];

describe('client messages', () => {
	test.each(valid.map((m) => [m.type, m]))('%s survives a JSON round trip', (_type, message) => {
		expect(parseClientMessage(JSON.stringify(message))).toEqual({ ok: true, message });
	});

	const invalid: Array<[string, unknown]> = [
		['unknown type', { type: 'launch' }],
		['missing type', { v: 1 }],
		['join without lastSeq', { type: 'join', v: 1 }],
		['negative lastSeq', { type: 'join', v: 1, lastSeq: -1 }],
		['fractional seq', { type: 'fetch', from: 1.5, to: 2 }],
		['extra field', { type: 'fetch', from: 1, to: 2, admin: true }],
		['id with spaces', { type: 'command', id: 'a b', name: 'chat.send', payload: {} }],
		['id too long', { type: 'command', id: 'x'.repeat(65), name: 'chat.send', payload: {} }],
		['upper-case name', { type: 'command', id: 'a', name: 'Chat', payload: {} }],
		[
			'deep payload',
			{
				type: 'command',
				id: 'a',
				name: 'chat.send',
				payload: JSON.parse('['.repeat(20) + ']'.repeat(20))
			}
		],
		['empty telemetry', { type: 'telemetry', samples: [] }],
		[
			'too much telemetry',
			{
				type: 'telemetry',
				samples: Array.from({ length: 501 }, (_, i) => ({ id: `s${i}`, kind: 'r', t: 0, value: 0 }))
			}
		],
		['string t0', { type: 'ping', id: 1, t0: 'now' }],
		['array', [1, 2, 3]],
		['null', null]
	];
	test.each(invalid)('rejects %s', (_name, message) => {
		const result = parseClientMessage(JSON.stringify(message));
		expect(result.ok).toBe(false);
		expect(!result.ok && result.code).toBe('invalid_message');
	});

	test('invalid JSON has its own code', () => {
		expect(parseClientMessage('{"type":')).toMatchObject({ ok: false, code: 'invalid_json' });
	});

	test('the message names where the problem is', () => {
		const result = parseClientMessage(JSON.stringify({ type: 'join', v: 1, lastSeq: 'x' }));
		expect(!result.ok && result.message).toContain('lastSeq');
	});
});
