/**
 * A fake LiveKit server API for tests: no LiveKit runs on this machine, so our side of the
 * contract is tested exactly. It answers the Twirp endpoints Ensemble calls
 * (`livekit.RoomService/ListRooms` and `DeleteRoom`, `livekit.Egress/StartRoomCompositeEgress`,
 * `livekit.Egress/StopEgress`), verifies every request's bearer JWT with the SDK's own
 * `TokenVerifier` and the endpoint's grant as LiveKit does, and records each request with its
 * decoded claims so tests can assert what was sent. Failure modes: `stop()` (connection
 * refused), `unauthorized` (401), `error` (500), `slow` (answers after `slowMs`).
 */
import { TokenVerifier, type ClaimGrants, type VideoGrant } from 'livekit-server-sdk';

export type LiveKitFakeMode = 'ok' | 'unauthorized' | 'error' | 'slow';

export type RecordedRequest = {
	method: string;
	path: string;
	/** The parsed JSON body (null when it was not JSON). */
	body: unknown;
	/** The verified token's claims (`video` holds the grants); null when verification failed. */
	claims: ClaimGrants | null;
	/** Why the token was refused, when it was. */
	authError: string | null;
};

export type FakeRoom = { sid: string; name: string; numParticipants: number };

export type LiveKitFake = {
	/** `http://127.0.0.1:<port>`, as LIVEKIT_URL. */
	readonly url: string;
	readonly port: number;
	readonly apiKey: string;
	readonly apiSecret: string;
	/** Every request received, oldest first. */
	readonly requests: RecordedRequest[];
	/** Rooms ListRooms knows (filtered by the request's names, as LiveKit does). */
	rooms: FakeRoom[];
	mode: LiveKitFakeMode;
	/** How long `slow` waits before answering. */
	slowMs: number;
	/** Whether it is listening. */
	readonly running: boolean;
	/** Stops listening: clients get connection refused. */
	stop(): Promise<void>;
	/** Listens again on the same port (after `stop`). */
	restart(): void;
	/** Forgets recorded requests. */
	clear(): void;
};

type Endpoint = {
	/** The grant LiveKit requires for the call. */
	grant: keyof VideoGrant;
	answer(body: Record<string, unknown>): Response;
};

/** A Twirp error as LiveKit sends it (content type exactly `application/json`, as the SDK checks). */
function twirpError(status: number, code: string, msg: string): Response {
	return new Response(JSON.stringify({ code, msg }), {
		status,
		headers: { 'content-type': 'application/json' }
	});
}

function twirpAnswer(value: unknown): Response {
	return new Response(JSON.stringify(value), { headers: { 'content-type': 'application/json' } });
}

/** Starts the fake on a free port (or `port`), verifying tokens signed with `apiKey`/`apiSecret`. */
export function startLiveKitFake(
	options: { apiKey?: string; apiSecret?: string; port?: number } = {}
): LiveKitFake {
	const apiKey = options.apiKey ?? 'fake-key';
	const apiSecret = options.apiSecret ?? 'fake-secret-that-is-long-enough-for-hs256';
	const verifier = new TokenVerifier(apiKey, apiSecret);
	const requests: RecordedRequest[] = [];
	const egresses = new Map<string, { egressId: string; roomName: string }>();

	const endpoints: Record<string, Endpoint> = {
		'/twirp/livekit.RoomService/ListRooms': {
			grant: 'roomList',
			answer(body) {
				const names = Array.isArray(body.names) ? (body.names as string[]) : [];
				const rooms = names.length ? fake.rooms.filter((r) => names.includes(r.name)) : fake.rooms;
				return twirpAnswer({ rooms });
			}
		},
		'/twirp/livekit.RoomService/DeleteRoom': {
			grant: 'roomCreate',
			answer(body) {
				fake.rooms = fake.rooms.filter((room) => room.name !== String(body.room));
				return twirpAnswer({});
			}
		},
		'/twirp/livekit.Egress/StartRoomCompositeEgress': {
			grant: 'roomRecord',
			answer(body) {
				const egress = { egressId: `EG_fake${egresses.size + 1}`, roomName: String(body.roomName) };
				egresses.set(egress.egressId, egress);
				return twirpAnswer({ ...egress, status: 'EGRESS_STARTING' });
			}
		},
		'/twirp/livekit.Egress/StopEgress': {
			grant: 'roomRecord',
			answer(body) {
				const egress = egresses.get(String(body.egressId));
				if (!egress) return twirpError(404, 'not_found', 'egress does not exist');
				return twirpAnswer({ ...egress, status: 'EGRESS_ENDING' });
			}
		}
	};

	async function handle(request: Request): Promise<Response> {
		const path = new URL(request.url).pathname;
		const text = await request.text();
		let body: unknown = null;
		try {
			body = text ? JSON.parse(text) : {};
		} catch {
			// Recorded as null; the endpoint refuses it below.
		}
		const header = request.headers.get('authorization') ?? '';
		const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
		let claims: ClaimGrants | null = null;
		let authError: string | null = null;
		if (!bearer) authError = 'no bearer token';
		else {
			try {
				claims = await verifier.verify(bearer);
			} catch (error) {
				authError = (error as Error).message;
			}
		}
		requests.push({ method: request.method, path, body, claims, authError });

		if (fake.mode === 'slow') await Bun.sleep(fake.slowMs);
		if (fake.mode === 'error') return twirpError(500, 'internal', 'fake LiveKit failure');
		if (fake.mode === 'unauthorized') return twirpError(401, 'unauthenticated', 'invalid token');
		if (authError) return twirpError(401, 'unauthenticated', authError);
		const endpoint = endpoints[path];
		if (request.method !== 'POST' || !endpoint) {
			return twirpError(404, 'bad_route', `no handler for ${request.method} ${path}`);
		}
		if (claims?.video?.[endpoint.grant] !== true) {
			return twirpError(403, 'permission_denied', `the token lacks the ${endpoint.grant} grant`);
		}
		if (body === null || typeof body !== 'object') {
			return twirpError(400, 'malformed', 'the body is not a JSON object');
		}
		return endpoint.answer(body as Record<string, unknown>);
	}

	const listen = (port: number) =>
		Bun.serve({ hostname: '127.0.0.1', port, fetch: handle, idleTimeout: 0 });
	let server: ReturnType<typeof listen> | null = listen(options.port ?? 0);
	const port = server.port!;

	const fake: LiveKitFake = {
		url: `http://127.0.0.1:${port}`,
		port,
		apiKey,
		apiSecret,
		requests,
		rooms: [],
		mode: 'ok',
		slowMs: 5_000,
		get running() {
			return server !== null;
		},
		async stop() {
			await server?.stop(true);
			server = null;
		},
		restart() {
			server ??= listen(port);
		},
		clear() {
			requests.length = 0;
		}
	};
	return fake;
}
