/**
 * `vite dev` has no Bun server to upgrade sockets, so the dev plugin hands upgrades here: the
 * same decision (`decideUpgrade`) and the same hub, over the `ws` package. Loaded through
 * Vite's SSR module graph, so it shares the database and configuration with the app's pages.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { sessionCookieName } from '../auth/cookies';
import { getSessionPolicy } from '../auth/policy';
import { validateSessionToken } from '../auth/sessions';
import { getEnv } from '../config/env';
import { getDatabase } from '../db';
import { MAX_FRAME_BYTES } from '../../protocol';
import { createBus } from './bus';
import type { Connection, ConnectionAuth, Transport } from './connection';
import { EventStore } from './event-store';
import { RealtimeHub } from './hub';
import { getRealtimeMetrics } from './metrics';
import { TelemetryWriter } from './telemetry-writer';
import { createStudyRoomServices } from '../rooms/study-rooms';
import { decideUpgrade, matchRealtimePath } from './upgrade';
import { getUpgradeThrottle } from './upgrade-throttle';

class TopicTransport implements Transport {
	readonly topics = new Map<string, Set<WsConnection>>();
	publish(topic: string, frame: string): void {
		for (const connection of this.topics.get(topic) ?? []) connection.send(frame);
	}
}

let nextId = 0;

class WsConnection implements Connection {
	readonly id = `dev${++nextId}`;
	constructor(
		readonly auth: ConnectionAuth,
		readonly socket: WebSocket,
		readonly transport: TopicTransport
	) {}
	send(frame: string): void {
		if (this.socket.readyState === this.socket.OPEN) this.socket.send(frame);
	}
	subscribe(topic: string): void {
		const set = this.transport.topics.get(topic) ?? new Set();
		set.add(this);
		this.transport.topics.set(topic, set);
	}
	unsubscribe(topic: string): void {
		this.transport.topics.get(topic)?.delete(this);
	}
	close(code: number, reason: string): void {
		this.socket.close(code, reason);
	}
}

function readCookie(header: string | undefined, name: string): string | undefined {
	for (const part of header?.split(';') ?? []) {
		const [key, ...value] = part.trim().split('=');
		if (key === name) return decodeURIComponent(value.join('='));
	}
	return undefined;
}

function refuse(socket: Duplex, status: number, message: string): void {
	const body = JSON.stringify({ error: 'upgrade_refused', message });
	socket.end(
		`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
	);
}

/** Creates the dev realtime handler; returns false for upgrades that are not ours (HMR). */
export async function createDevRealtime() {
	const db = await getDatabase();
	const env = getEnv();
	const metrics = getRealtimeMetrics();
	const transport = new TopicTransport();
	const store = new EventStore(db);
	const telemetry = new TelemetryWriter(db, metrics);
	telemetry.start();
	const hub = new RealtimeHub({
		store,
		bus: createBus({ redisUrl: env.redisUrl, replicaId: `${env.replicaId}-dev` }),
		transport,
		telemetry,
		metrics,
		replayLimit: env.realtimeReplayLimit,
		socketCaps: env.socketCaps,
		studyRooms: createStudyRoomServices(db)
	});
	const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

	return function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
		const url = new URL(request.url ?? '/', env.origin);
		const roomId = matchRealtimePath(url.pathname);
		if (!roomId) return false;
		// The same per-address limit as production (dev has no proxy: the socket's peer is the client).
		const flood = getUpgradeThrottle().check(request.socket.remoteAddress ?? 'unknown', Date.now());
		if (!flood.ok) {
			refuse(socket, 429, 'Too many connection attempts from your address.');
			return true;
		}
		void (async () => {
			const token = readCookie(request.headers.cookie, sessionCookieName());
			const session = token
				? await validateSessionToken(db, token, getSessionPolicy(), new Date())
				: undefined;
			const decision = await decideUpgrade(
				{
					roomId,
					origin: request.headers.origin ?? null,
					ticket: url.searchParams.get('ticket'),
					user: session?.ok ? session.user : null,
					sessionId: session?.ok ? session.session.id : null
				},
				{ db, store, allowedOrigins: env.allowedOrigins, now: Date.now() }
			);
			if (!decision.ok) return refuse(socket, decision.status, decision.message);
			wss.handleUpgrade(request, socket, head, (ws) => {
				const connection = new WsConnection(decision.auth, ws, transport);
				hub.open(connection);
				ws.on(
					'message',
					(data, isBinary) =>
						void hub.message(connection, isBinary ? new Uint8Array(data as Buffer) : String(data))
				);
				ws.on('close', () => hub.close(connection));
			});
		})().catch(() => refuse(socket, 500, 'upgrade failed'));
		return true;
	};
}
