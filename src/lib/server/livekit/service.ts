/**
 * Calls to LiveKit's server API (Twirp over HTTP) with a timeout, and failures as values: a
 * LiveKit outage must never throw through a request handler, and each failure says what to
 * check. Tokens need no call (tokens.ts); this is for the room service and, later, egress.
 */
import { RoomServiceClient, TwirpError, type Room } from 'livekit-server-sdk';
import type { LiveKitSettings } from '../config/env';

/**
 * Three seconds: LiveKit answers its API in milliseconds when healthy, and a caller waiting
 * on it (a probe, a dashboard action) should learn of an outage quickly rather than hang.
 */
export const LIVEKIT_REQUEST_TIMEOUT_MS = 3_000;

export type LiveKitFailure = {
	ok: false;
	/** `unreachable`: no answer (down, wrong URL, timeout); `unauthorized`: key or secret refused. */
	reason: 'unreachable' | 'unauthorized' | 'error';
	message: string;
};

export type LiveKitResult<T> = { ok: true; value: T } | LiveKitFailure;

/** Turns whatever a LiveKit call threw into a failure with a message an operator can act on. */
export function describeLiveKitFailure(
	error: unknown,
	url: string,
	timeoutMs: number
): LiveKitFailure {
	if (error instanceof TwirpError) {
		const detail = error.message ? `: ${error.message}` : '';
		if (error.status === 401 || error.status === 403) {
			return {
				ok: false,
				reason: 'unauthorized',
				message: `LiveKit at ${url} refused the credentials (${error.status}${detail}); check LIVEKIT_API_KEY and LIVEKIT_API_SECRET.`
			};
		}
		return {
			ok: false,
			reason: 'error',
			message: `LiveKit at ${url} answered ${error.status}${detail}.`
		};
	}
	const name = error instanceof Error ? error.name : '';
	if (name === 'TimeoutError' || name === 'AbortError') {
		return {
			ok: false,
			reason: 'unreachable',
			message: `LiveKit at ${url} did not answer within ${timeoutMs} ms.`
		};
	}
	const detail = error instanceof Error ? error.message : String(error);
	return {
		ok: false,
		reason: 'unreachable',
		message: `LiveKit at ${url} is unreachable (${detail}); check LIVEKIT_URL and that the server runs.`
	};
}

export type LiveKitService = {
	/** Active rooms, or only those named (LiveKit looks names up directly: a cheap call). */
	listRooms(names?: string[]): Promise<LiveKitResult<Room[]>>;
	/** Closes a LiveKit room: everyone in it is disconnected (a room that is gone is fine). */
	deleteRoom(name: string): Promise<LiveKitResult<void>>;
};

/** Runs one LiveKit API call, turning whatever it throws into a failure value. */
export async function callLiveKit<T>(
	config: LiveKitSettings,
	timeoutMs: number,
	request: () => Promise<T>
): Promise<LiveKitResult<T>> {
	try {
		return { ok: true, value: await request() };
	} catch (error) {
		return describeLiveKitFailure(error, config.url, timeoutMs);
	}
}

/** A client for LiveKit's server API; every call ends within `timeoutMs`. */
export function createLiveKitService(
	config: LiveKitSettings,
	options: { timeoutMs?: number } = {}
): LiveKitService {
	const timeoutMs = options.timeoutMs ?? LIVEKIT_REQUEST_TIMEOUT_MS;
	// The SDK aborts the request at its timeout (seconds) and maps ws:// to http://. Below 5 s
	// it also skips its LiveKit Cloud region failover, which would retry past our timeout.
	const rooms = new RoomServiceClient(config.url, config.apiKey, config.apiSecret, {
		requestTimeout: timeoutMs / 1000
	});
	const call = <T>(request: () => Promise<T>) => callLiveKit(config, timeoutMs, request);
	return {
		listRooms: (names) => call(() => rooms.listRooms(names)),
		deleteRoom: (name) => call(() => rooms.deleteRoom(name))
	};
}
