/**
 * Frames on the client side of the wire: encoding checked exactly as the server checks, and a
 * lenient parse of what the server sends. Pure, so the queues can size and vet their frames.
 */
import {
	MAX_FRAME_BYTES,
	parseClientMessage,
	type ClientMessage,
	type ServerMessage
} from '../protocol';

const encoder = new TextEncoder();

/** UTF-8 size of a frame, which is what the server's limit counts. */
export function measureBytes(text: string): number {
	return encoder.encode(text).length;
}

/**
 * Encodes a message and checks it exactly as the server will (JSON, schema, size), so nothing
 * is queued that the server can only answer with an `error`.
 */
export function encodeClientMessage(message: ClientMessage):
	| { ok: true; frame: string }
	// The reasons double as `CommandError` reasons, so a refused `send` needs no mapping.
	| { ok: false; reason: 'invalid_command' | 'frame_too_large'; message: string } {
	let frame: string;
	try {
		frame = JSON.stringify(message);
	} catch (error) {
		return { ok: false, reason: 'invalid_command', message: `Not JSON: ${String(error)}` };
	}
	if (measureBytes(frame) > MAX_FRAME_BYTES) {
		return { ok: false, reason: 'frame_too_large', message: `Over ${MAX_FRAME_BYTES} bytes.` };
	}
	const parsed = parseClientMessage(frame);
	return parsed.ok
		? { ok: true, frame }
		: { ok: false, reason: 'invalid_command', message: parsed.message };
}

const SERVER_TYPES = new Set<string>([
	'joined',
	'event',
	'events',
	'resync',
	'ack',
	'rejected',
	'ephemeral',
	'presence',
	'view',
	'telemetry',
	'pong',
	'error',
	'incompatible'
] satisfies ServerMessage['type'][]);

/** The server is trusted; this only guards against non-JSON and unknown message types. */
export function parseServerMessage(data: unknown): ServerMessage | undefined {
	if (typeof data !== 'string') return undefined;
	try {
		const message: unknown = JSON.parse(data);
		if (typeof message !== 'object' || message === null || !('type' in message)) return undefined;
		return SERVER_TYPES.has(String(message.type)) ? (message as ServerMessage) : undefined;
	} catch {
		return undefined;
	}
}
