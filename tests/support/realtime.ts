import type { RoomEvent, ServerMessage } from '../../src/lib/protocol';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import type { ActorRole } from '../../src/lib/room';
import type { Bus } from '../../src/lib/server/realtime/bus/types';
import type {
	Connection,
	ConnectionAuth,
	Transport
} from '../../src/lib/server/realtime/connection';
import type { Database } from '../../src/lib/server/db/database';
import { EventStore } from '../../src/lib/server/realtime/event-store';
import { RealtimeHub, type HubOptions } from '../../src/lib/server/realtime/hub';
import { RealtimeMetrics } from '../../src/lib/server/realtime/metrics';
import { TelemetryWriter } from '../../src/lib/server/realtime/telemetry-writer';

/** Local fan-out without sockets: topics map to fake connections. */
export class FakeTransport implements Transport {
	readonly topics = new Map<string, Set<FakeConnection>>();
	publish(topic: string, frame: string): void {
		for (const connection of this.topics.get(topic) ?? []) connection.send(frame);
	}
}

let nextId = 0;

/** A socket as the hub sees it; records every frame it is sent. */
export class FakeConnection implements Connection {
	readonly id = `fake-${++nextId}`;
	readonly frames: ServerMessage[] = [];
	closed: { code: number; reason: string } | undefined;

	constructor(
		readonly auth: ConnectionAuth,
		readonly replica: Replica
	) {}

	send(frame: string): void {
		if (!this.closed) this.frames.push(JSON.parse(frame) as ServerMessage);
	}
	subscribe(topic: string): void {
		const set = this.replica.transport.topics.get(topic) ?? new Set();
		set.add(this);
		this.replica.transport.topics.set(topic, set);
	}
	unsubscribe(topic: string): void {
		this.replica.transport.topics.get(topic)?.delete(this);
	}
	/** Like Bun: closing runs the close handler (on a later tick). */
	close(code: number, reason: string): void {
		if (this.closed) return;
		this.closed = { code, reason };
		for (const set of this.replica.transport.topics.values()) set.delete(this);
		queueMicrotask(() => this.replica.hub.close(this));
	}
	/** The socket dropped (network): no close frame, the hub just learns it is gone. */
	drop(): void {
		this.close(1006, 'dropped');
	}
	async receive(message: unknown): Promise<void> {
		await this.replica.hub.message(
			this,
			typeof message === 'string' ? message : JSON.stringify(message)
		);
	}
	/** Every event delivered to this connection (live and replayed), in delivery order. */
	events(): RoomEvent[] {
		return this.frames.flatMap((f) =>
			f.type === 'event' ? [f.event] : f.type === 'events' ? f.events : []
		);
	}
	of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
		return this.frames.filter((f): f is Extract<ServerMessage, { type: T }> => f.type === type);
	}
}

/** One simulated replica: a hub with its own transport, sharing the database and a bus network. */
export class Replica {
	readonly transport = new FakeTransport();
	readonly metrics = new RealtimeMetrics();
	readonly telemetry: TelemetryWriter;
	readonly hub: RealtimeHub;
	readonly store: EventStore;

	constructor(db: Database, bus: Bus, options: Partial<HubOptions> = {}) {
		this.store = new EventStore(db);
		this.telemetry =
			options.telemetry ?? new TelemetryWriter(db, this.metrics, { flushIntervalMs: 20 });
		this.hub = new RealtimeHub({
			store: this.store,
			bus,
			transport: this.transport,
			telemetry: this.telemetry,
			metrics: this.metrics,
			...options
		});
	}

	connect(
		roomId: string,
		actor: string,
		role: ActorRole = 'participant',
		sessionId?: string
	): FakeConnection {
		const connection = new FakeConnection({ roomId, actor: { id: actor, role }, sessionId }, this);
		this.hub.open(connection);
		return connection;
	}

	async join(roomId: string, actor: string, lastSeq = 0, role: ActorRole = 'participant') {
		const connection = this.connect(roomId, actor, role);
		await connection.receive({ type: 'join', v: PROTOCOL_VERSION, lastSeq });
		return connection;
	}
}

/** Polls until `check` holds (or fails with `what` after the timeout). */
export async function waitFor(
	what: string,
	check: () => boolean,
	timeoutMs = 5_000
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await Bun.sleep(5);
	}
}

export const command = (id: string, text: string) => ({
	type: 'command',
	id,
	name: 'chat.send',
	payload: { text }
});
