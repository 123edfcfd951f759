/**
 * The only Bun-specific realtime file: `ServerWebSocket` ⇄ the transport-agnostic hub. A
 * future native SvelteKit socket API replaces this file and nothing else.
 */
import type { Server, ServerWebSocket, WebSocketHandler } from 'bun';
import { MAX_FRAME_BYTES } from '../../protocol';
import type { MonitorHub } from '../monitor/monitor-hub';
import type { MonitorAuth, MonitorConnection } from '../monitor/study-monitor';
import type { Connection, ConnectionAuth, Transport } from './connection';
import type { RealtimeHub } from './hub';

/** A room socket (`auth`) or a study monitor's (`monitor`), as decided at the upgrade. */
export type SocketData =
	| { auth: ConnectionAuth; connection?: Connection }
	| { monitor: MonitorAuth; connection?: MonitorConnection };
type RoomSocketData = Extract<SocketData, { auth: ConnectionAuth }>;

// A reader that falls this far behind is closed and resumes from lastSeq: memory per socket
// stays bounded whatever the client does.
const BACKPRESSURE_LIMIT_BYTES = 1024 * 1024;
// Bun pings idle sockets and closes those that stop answering (dead NATs, sleeping laptops).
const IDLE_TIMEOUT_SECONDS = 60;

let nextId = 0;

class BunConnection implements Connection {
	readonly id = `c${++nextId}`;
	readonly #ws: ServerWebSocket<RoomSocketData>;

	constructor(ws: ServerWebSocket<RoomSocketData>) {
		this.#ws = ws;
	}

	get auth(): ConnectionAuth {
		return this.#ws.data.auth;
	}

	send(frame: string): void {
		this.#ws.send(frame);
	}

	subscribe(topic: string): void {
		this.#ws.subscribe(topic);
	}

	unsubscribe(topic: string): void {
		// After a close Bun has already dropped the subscriptions.
		if (this.#ws.readyState === 1) this.#ws.unsubscribe(topic);
	}

	close(code: number, reason: string): void {
		this.#ws.close(code, reason);
	}
}

/** A study monitor's socket: frames out, a close; it subscribes to no topic. */
class BunMonitorConnection implements MonitorConnection {
	readonly id = `m${++nextId}`;
	readonly #ws: ServerWebSocket<SocketData>;

	constructor(
		ws: ServerWebSocket<SocketData>,
		readonly auth: MonitorAuth
	) {
		this.#ws = ws;
	}

	send(frame: string): void {
		this.#ws.send(frame);
	}

	close(code: number, reason: string): void {
		this.#ws.close(code, reason);
	}
}

export function createWebSocketHandler(
	hub: RealtimeHub,
	monitors?: MonitorHub
): WebSocketHandler<SocketData> {
	return {
		maxPayloadLength: MAX_FRAME_BYTES,
		backpressureLimit: BACKPRESSURE_LIMIT_BYTES,
		closeOnBackpressureLimit: true,
		idleTimeout: IDLE_TIMEOUT_SECONDS,
		sendPings: true,
		perMessageDeflate: false,
		open(ws) {
			const data = ws.data;
			if ('monitor' in data) {
				const connection = new BunMonitorConnection(ws, data.monitor);
				data.connection = connection;
				if (monitors) monitors.open(connection);
				else connection.close(1011, 'monitor unavailable');
				return;
			}
			const connection = new BunConnection(ws as ServerWebSocket<RoomSocketData>);
			data.connection = connection;
			hub.open(connection);
		},
		message(ws, message) {
			const data = ws.data;
			if ('monitor' in data) monitors?.message(data.connection!, message);
			else void hub.message(data.connection!, message);
		},
		close(ws) {
			const data = ws.data;
			if (!data.connection) return;
			if ('monitor' in data) monitors?.close(data.connection);
			else hub.close(data.connection);
		}
	};
}

/** Local fan-out through Bun's native topics; bound to the server once it exists. */
export function createBunTransport(): Transport & { bind(server: Server<SocketData>): void } {
	let server: Server<SocketData> | undefined;
	return {
		bind(bound) {
			server = bound;
		},
		publish(topic, frame) {
			server?.publish(topic, frame);
		}
	};
}
