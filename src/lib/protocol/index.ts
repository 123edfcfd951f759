/**
 * The realtime wire protocol, shared by browser and server. One WebSocket carries one room:
 * `/realtime/rooms/<roomId>`. Every frame is a JSON object with a `type`. Client messages are
 * validated with the schemas below before anything else looks at them.
 *
 * Renamed messages get a new name, never a new meaning; a change that old clients cannot
 * follow bumps PROTOCOL_VERSION. docs/PROTOCOL.md describes the exchanges.
 */
import * as v from 'valibot';
import { storableJson } from './text';

export const PROTOCOL_VERSION = 1;

/** Largest frame either side sends; the server closes with 1009 beyond it. */
export const MAX_FRAME_BYTES = 64 * 1024;

/** WebSocket close codes the server uses, and what the client should do about each. */
export const CloseCode = {
	/** The server is shutting down or moving the connection: reconnect (maybe elsewhere). */
	GoingAway: 1001,
	/** Too many messages: reconnect after a pause. */
	RateLimited: 1008,
	/** A frame over MAX_FRAME_BYTES: a client bug; do not resend the same frame. */
	TooLarge: 1009,
	/** An unexpected server error: reconnect and resume. */
	InternalError: 1011,
	/** The client speaks another protocol version: reload the page. */
	Incompatible: 4400,
	/** No valid session or ticket, or the session was revoked: sign in again. */
	Unauthorized: 4401,
	/**
	 * The user's access was removed while the socket was open (study unshared, demoted to view,
	 * account disabled): reconnecting cannot help; do not retry.
	 */
	AccessRevoked: 4403,
	/** The room does not exist (any more). */
	RoomNotFound: 4404,
	/** The client did not read fast enough; reconnect and resume from lastSeq. */
	SlowConsumer: 4408,
	/** The client never sent `join` in time. */
	JoinTimeout: 4409,
	/**
	 * A newer socket of the same participant, ticket or session took this one's place (caps per
	 * identity). Final: do not reconnect on your own, or two tabs would replace each other forever;
	 * offer the person to continue here instead.
	 */
	Replaced: 4410
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

// --- Shared shapes --------------------------------------------------------------------------

/** A durable room event, as stored in the log and delivered to clients, in `seq` order. */
export type RoomEvent = {
	seq: number;
	/** Server time of the commit, ms since the epoch. */
	at: number;
	/** Who caused it: a participant id, a user id, or `system`. */
	actor: string;
	name: string;
	payload: unknown;
	/** The client-generated command id that produced it, when there was one. */
	cid?: string;
};

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.regex(/^[\w.:-]+$/));
const Seq = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const Name = v.pipe(v.string(), v.minLength(1), v.maxLength(64), v.regex(/^[a-z][\w.-]*$/));

/** Any JSON value nested at most `depth` levels: refuses pathological payloads early. */
function isShallowJson(value: unknown, depth: number): boolean {
	if (value === null || typeof value !== 'object') return true;
	if (depth === 0) return false;
	const children = Array.isArray(value) ? value : Object.values(value);
	return children.every((child) => isShallowJson(child, depth - 1));
}
// Every string in a payload reaches storage (events, telemetry) or other members: one rule.
const JsonPayload = v.pipe(
	v.unknown(),
	v.check((value) => isShallowJson(value, 8), 'payload nested too deeply'),
	storableJson()
);

// --- Client → server ------------------------------------------------------------------------

export const JoinMessage = v.strictObject({
	type: v.literal('join'),
	/** The client's PROTOCOL_VERSION. */
	v: v.pipe(v.number(), v.integer()),
	/** The last seq this client has applied; 0 for none. */
	lastSeq: Seq
});

export const CommandMessage = v.strictObject({
	type: v.literal('command'),
	/** Client-generated, unique per actor and room: a retry with the same id is applied once. */
	id: Id,
	name: Name,
	payload: JsonPayload
});

/** Asks again for events the client missed (a gap it noticed), inclusive range. */
export const FetchMessage = v.strictObject({
	type: v.literal('fetch'),
	from: Seq,
	to: Seq
});

/** Not persisted, no seq: presence, typing, cursors. */
export const EphemeralMessage = v.strictObject({
	type: v.literal('ephemeral'),
	kind: Name,
	data: JsonPayload
});

export const TelemetrySample = v.strictObject({
	/** Client-generated; a resent sample is stored once. */
	id: Id,
	kind: Name,
	/** Client clock, ms (performance.timeOrigin + performance.now()). */
	t: v.number(),
	value: JsonPayload
});
export type TelemetrySample = v.InferOutput<typeof TelemetrySample>;

export const TelemetryMessage = v.strictObject({
	type: v.literal('telemetry'),
	samples: v.pipe(v.array(TelemetrySample), v.minLength(1), v.maxLength(500))
});

/** Clock sync (NTP-style): the server answers with its receive and send times. */
export const PingMessage = v.strictObject({
	type: v.literal('ping'),
	id: v.pipe(v.number(), v.integer()),
	t0: v.number()
});

// Most frames are clock pings, so they are tried first.
export const ClientMessage = v.variant('type', [
	PingMessage,
	CommandMessage,
	EphemeralMessage,
	TelemetryMessage,
	FetchMessage,
	JoinMessage
]);
export type ClientMessage = v.InferOutput<typeof ClientMessage>;

// --- Server → client ------------------------------------------------------------------------

/** Why the server refused a command; `reason` is stable, `message` is for people. */
export type Rejection = { reason: string; message: string };

export type ServerMessage =
	/** Answer to `join`: replayed events (if any) follow as `events`, then live `event`s. */
	| { type: 'joined'; room: string; actor: string; head: number; serverTime: number }
	| { type: 'event'; event: RoomEvent }
	/** A run of consecutive events: replay after join, or the answer to `fetch`. */
	| { type: 'events'; events: RoomEvent[] }
	/** The client is too far behind to replay: start over from this state. */
	| { type: 'resync'; head: number; snapshot: unknown }
	/** The command is durable (committed) as event `seq`. */
	| { type: 'ack'; id: string; seq: number }
	| ({ type: 'rejected'; id: string } & Rejection)
	| { type: 'ephemeral'; from: string; kind: string; data: unknown }
	| { type: 'presence'; actors: string[] }
	/**
	 * Study rooms only: the receiver's own view after every change, as of event `seq`.
	 * Participants and bots get `scope: 'member'` with `view` (their `memberView`); experimenters
	 * and observers `scope: 'room'` with the whole study-room `state`.
	 */
	| ({ type: 'view'; seq: number } & (
			{ scope: 'member'; view: unknown } | { scope: 'room'; state: unknown }
	  ))
	/** Telemetry samples accepted for storage (or refused while the queue is full). */
	| { type: 'telemetry'; accepted: number; retryAfterMs?: number }
	| { type: 'pong'; id: number; t0: number; t1: number; t2: number }
	| { type: 'error'; code: ErrorCode; message: string }
	| { type: 'incompatible'; serverVersion: number; message: string };

/**
 * `data` of the server's `{type:'ephemeral', from:'system', kind:'metric'}` message: the live
 * group metric of a `group_metric` stage, sent about once a second while the room is on one.
 * Never stored. Member ids are the room's pseudonymous participant ids; a member who sent
 * nothing recent (or not enough for a score) is left out of `members` and of the summary.
 */
export type GroupMetricData = {
	stageId: string;
	metric: 'mean' | 'coherence';
	/** The stage's signal (e.g. `rating`); coherence is computed from R-R or reported scores. */
	signal: string;
	/** The stage's display scale. */
	min: number;
	max: number;
	/** Server time of the computation, ms since the epoch. */
	at: number;
	members: { id: string; value: number }[];
	/** Null while no member has a value. */
	group: {
		count: number;
		mean: number;
		peak: number;
		min: number;
		/** Coherence only: members per band (0–40 low, 40–60 medium, 60–100 high). */
		distribution?: { low: number; medium: number; high: number };
	} | null;
};

export type ErrorCode =
	| 'invalid_json'
	| 'invalid_message'
	| 'not_joined'
	| 'already_joined'
	| 'binary_not_supported'
	/** Telemetry samples the server accepted could not be stored and were dropped. */
	| 'telemetry_unstorable'
	/** The sender's role may not send this frame (an observer's telemetry, say). */
	| 'forbidden'
	| 'internal';

function readableCommandId(data: unknown): string | undefined {
	if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
	const { type, id } = data as { type?: unknown; id?: unknown };
	return type === 'command' && v.is(Id, id) ? id : undefined;
}

/** Parses and validates one client frame. */
export function parseClientMessage(frame: string):
	| { ok: true; message: ClientMessage }
	| {
			ok: false;
			code: 'invalid_json' | 'invalid_message';
			message: string;
			/** A malformed command whose id is readable: answer `rejected` so the client can settle it. */
			commandId?: string;
	  } {
	let data: unknown;
	try {
		data = JSON.parse(frame);
	} catch {
		return { ok: false, code: 'invalid_json', message: 'The frame is not valid JSON.' };
	}
	const result = v.safeParse(ClientMessage, data);
	if (!result.success) {
		const issue = result.issues[0];
		const path = issue.path?.map((p) => String(p.key)).join('.');
		return {
			ok: false,
			code: 'invalid_message',
			message: `Invalid message${path ? ` at ${path}` : ''}: ${issue.message}`,
			commandId: readableCommandId(data)
		};
	}
	return { ok: true, message: result.output };
}
