import {
	CloseCode,
	parseClientMessage,
	PROTOCOL_VERSION,
	type ServerMessage,
	type TelemetrySample
} from '../../protocol';
import { canSendEphemeral, canSendTelemetry } from '../../room/actors';
import { TokenBucketThrottle } from '../auth/throttle';
import { describeDatabaseError } from '../db/errors';
import { log } from '../log';
import type { Bus } from './bus/types';
import { roomTopic, type Connection, type Transport } from './connection';
import type { EventStore } from './event-store';
import type { AccessGrant } from './grants';
import { GroupCommitter } from './group-commit';
import type { RoomMonitorTap } from '../monitor/tap';
import type { StudyRoomServices } from '../rooms/study-rooms';
import {
	LiveRoom,
	logFailure,
	PRESENCE_GRACE_MS,
	RECONCILE_AFTER_MS,
	type BusRoomMessage,
	type ServerCommandResult
} from './live-room';
import type { RealtimeMetrics } from './metrics';
import { JOIN_GRACE_MS, type CommandActor } from './room-model';
import type { EnqueueResult, RefusalListener, TelemetryWriter } from './telemetry-writer';
import {
	DEFAULT_SOCKET_CAPS,
	identityKeysOf,
	IdentitySockets,
	type SocketCaps
} from './socket-caps';
import { measureSamples, TelemetryQuota, type StageAllowance } from './telemetry-quota';
import { ByteBudget } from './byte-budget';

export type HubOptions = {
	store: EventStore;
	bus: Bus;
	transport: Transport;
	telemetry: TelemetryWriter;
	metrics: RealtimeMetrics;
	/** Server clock in ms since the epoch; sub-millisecond for clock sync. */
	now?: () => number;
	/** Events a reconnecting client may be behind before it gets a snapshot instead. */
	replayLimit?: number;
	/** How long a socket may stay open without sending `join`. */
	joinTimeoutMs?: number;
	/** Messages per connection: a burst, then a steady rate; beyond it the socket is closed. */
	rateLimit?: { burst: number; perSecond: number };
	/** An empty room stays loaded this long, so a reconnect does not reload its log. */
	idleRoomMs?: number;
	/** Study rooms' database side (setup, derived rows); without it study rooms do not load. */
	studyRooms?: StudyRoomServices;
	/** How long a member may be disconnected before the stage's dropout policy acts. */
	presenceGraceMs?: number;
	/** After loading a room, how long to hear other replicas before taking members as gone. */
	reconcileAfterMs?: number;
	/**
	 * Members who never connect count as gone this long after formation. Every replica must use
	 * the same value (it shapes the rooms' initial state): only tests change it.
	 */
	joinGraceMs?: number;
	/** Where study rooms report their events and members' quality for the live monitors. */
	monitor?: RoomMonitorTap;
	/** Sockets per participant, ticket and session; the newest wins, older ones close 4410. */
	socketCaps?: SocketCaps;
	/** Telemetry per participant (socket and `ingestSignals`); beyond it, `retryAfterMs`. */
	telemetryQuota?: TelemetryQuota;
	/** Bytes per identity, counted before parsing: a burst, then a rate; beyond it, closed. */
	byteRate?: { burst: number; perSecond: number };
};

/**
 * Twice what the telemetry quota lets through (512 KiB at once, 64 KiB a second) and room for
 * commands: an honest page never comes near it; a flood is cut off before it is parsed.
 */
const DEFAULT_BYTE_RATE = { burst: 1024 * 1024, perSecond: 256 * 1024 };

type Member = {
	room?: LiveRoom;
	joining: boolean;
	joinTimer?: ReturnType<typeof setTimeout>;
	/** Whose byte budget the socket's frames draw on: its identity, so a new socket brings none. */
	bytesKey: string;
};

/**
 * How often this replica makes sure it is recorded as the host of the study rooms whose members
 * it holds, where no live replica is (another host left them, or died): writes only those rows.
 */
const HOSTING_CHECK_MS = 5_000;

/**
 * An idle room whose next deadline is this close stays loaded, so the deadline fires from its
 * own timer on time rather than from the sweeper a moment later.
 */
const KEEP_LOADED_BEFORE_WAKEUP_MS = 120_000;

/** Rooms announced per event-loop turn by the presence heartbeat. */
const PRESENCE_SLICE = 100;

const highResolutionNow = () => performance.timeOrigin + performance.now();

function send(connection: Connection, message: ServerMessage): void {
	connection.send(JSON.stringify(message));
}

/** A frame this actor may not send: the sender alone is told why, nothing else happens. */
function refuseFrame(connection: Connection, message: string): void {
	send(connection, { type: 'error', code: 'forbidden', message });
}

/**
 * The realtime hub: transport-agnostic, driven by plain calls (`open`, `message`, `close`),
 * so it is tested by feeding it messages. It validates every frame, rate-limits each
 * connection, and routes to the room, loading rooms on first use and dropping them when idle.
 */
export class RealtimeHub {
	readonly #options: Required<
		Omit<
			HubOptions,
			'rateLimit' | 'studyRooms' | 'monitor' | 'socketCaps' | 'telemetryQuota' | 'byteRate'
		>
	> & {
		studyRooms?: StudyRoomServices;
		monitor?: RoomMonitorTap;
		rateLimit: { burst: number; perSecond: number };
	};
	readonly #committer: GroupCommitter;
	readonly #members = new Map<Connection, Member>();
	readonly #rooms = new Map<string, Promise<LiveRoom | undefined>>();
	readonly #idleTimers = new Map<string, ReturnType<typeof setTimeout>>();
	readonly #busUnsubscribers = new Map<string, () => void>();
	readonly #limits: TokenBucketThrottle<Connection>;
	readonly #sockets: IdentitySockets<Connection>;
	readonly #quota: TelemetryQuota;
	readonly #bytes: ByteBudget<string>;
	readonly #caps: SocketCaps;
	readonly #presenceTimer: ReturnType<typeof setInterval>;
	readonly #hostingTimer: ReturnType<typeof setInterval>;
	readonly #stopRecovery: () => void;
	#closing = false;

	constructor(options: HubOptions) {
		this.#options = {
			now: highResolutionNow,
			replayLimit: 5_000,
			joinTimeoutMs: 10_000,
			rateLimit: { burst: 200, perSecond: 100 },
			idleRoomMs: 30_000,
			presenceGraceMs: PRESENCE_GRACE_MS,
			reconcileAfterMs: RECONCILE_AFTER_MS,
			joinGraceMs: JOIN_GRACE_MS,
			...options
		};
		const { burst, perSecond } = this.#options.rateLimit;
		this.#limits = new TokenBucketThrottle<Connection>(burst, 1000 / perSecond, 1_000_000);
		this.#committer = new GroupCommitter(options.store);
		const caps = (this.#caps = options.socketCaps ?? DEFAULT_SOCKET_CAPS);
		this.#sockets = new IdentitySockets((connection) => identityKeysOf(connection.auth, caps));
		this.#quota = options.telemetryQuota ?? new TelemetryQuota();
		const byteRate = options.byteRate ?? DEFAULT_BYTE_RATE;
		this.#bytes = new ByteBudget<string>(byteRate.burst, byteRate.perSecond);
		// Messages may have been lost while the bus was down: read the log for every room.
		this.#stopRecovery = options.bus.onRecovered(() => {
			this.catchUpAllRooms().catch(logFailure('*', 'recovery_catch_up'));
		});
		this.#presenceTimer = setInterval(() => {
			this.#refreshPresence().catch(logFailure('*', 'presence_refresh'));
		}, 5_000);
		this.#presenceTimer.unref?.();
		this.#hostingTimer = setInterval(() => {
			this.#claimHosting().catch(logFailure('*', 'hosting_claim'));
		}, HOSTING_CHECK_MS);
		this.#hostingTimer.unref?.();
		options.metrics.gauges = () => {
			options.metrics.commitBatches = this.#committer.stats.batches;
			return {
				ensemble_bus_healthy: options.bus.status().healthy ? 1 : 0,
				ensemble_bus_lag_last_ms: options.bus.status().lagMs ?? 0,
				ensemble_commit_queue_depth: this.#committer.stats.queued
			};
		};
	}

	// --- Connection lifecycle -----------------------------------------------------------------

	open(connection: Connection): void {
		const identity = identityKeysOf(connection.auth, this.#caps)[0]?.key;
		const member: Member = { joining: false, bytesKey: identity ?? `c\u0000${connection.id}` };
		member.joinTimer = setTimeout(() => {
			if (!member.room) connection.close(CloseCode.JoinTimeout, 'join expected');
		}, this.#options.joinTimeoutMs);
		this.#members.set(connection, member);
		this.#options.metrics.connections = this.#members.size;
		this.#options.metrics.connectionsOpened++;
		// The newest socket of an identity wins: the older ones are told why, and not to come back.
		for (const replaced of this.#sockets.admit(connection)) {
			this.#options.metrics.closedReplaced++;
			replaced.close(CloseCode.Replaced, 'replaced by a newer connection');
		}
	}

	close(connection: Connection): void {
		const member = this.#members.get(connection);
		if (!member) return;
		this.#members.delete(connection);
		this.#limits.forget(connection);
		this.#sockets.release(connection);
		clearTimeout(member.joinTimer);
		this.#options.metrics.connections = this.#members.size;
		if (member.room) {
			member.room.leave(connection);
			if (member.room.memberCount === 0) this.#scheduleUnload(member.room.id);
		}
	}

	/** Handles one frame. Never throws: bad input gets an error frame or a documented close. */
	async message(connection: Connection, data: string | ArrayBuffer | Uint8Array): Promise<void> {
		// Taken first, so clock pings measure as little of our own processing as possible.
		const receivedAt = this.#options.now();
		const member = this.#members.get(connection);
		if (!member) return;
		const size = typeof data === 'string' ? data.length : data.byteLength;
		if (
			!this.#limits.consume(connection, Date.now()).ok ||
			!this.#bytes.consume(member.bytesKey, size, Date.now())
		) {
			this.#options.metrics.closedRateLimited++;
			connection.close(CloseCode.RateLimited, 'rate limited');
			return;
		}
		if (typeof data !== 'string') {
			send(connection, {
				type: 'error',
				code: 'binary_not_supported',
				message: 'Send JSON text frames.'
			});
			return;
		}
		const parsed = parseClientMessage(data);
		if (!parsed.ok) {
			this.#options.metrics.framesRefused++;
			if (parsed.commandId) {
				const rejection = { reason: 'invalid_message', message: parsed.message };
				send(connection, { type: 'rejected', id: parsed.commandId, ...rejection });
			} else {
				send(connection, { type: 'error', code: parsed.code, message: parsed.message });
			}
			return;
		}
		const message = parsed.message;
		try {
			if (message.type === 'ping') {
				send(connection, {
					type: 'pong',
					id: message.id,
					t0: message.t0,
					t1: receivedAt,
					t2: this.#options.now()
				});
				return;
			}
			if (message.type === 'join')
				return await this.#join(connection, member, message.v, message.lastSeq);
			const room = member.room;
			if (!room) {
				send(connection, { type: 'error', code: 'not_joined', message: 'Send join first.' });
				return;
			}
			switch (message.type) {
				case 'command':
					room.submit(connection, message.id, message.name, message.payload);
					return;
				case 'fetch':
					await room.fetch(connection, message.from, message.to);
					return;
				case 'ephemeral':
					if (!canSendEphemeral(connection.auth.actor.role)) {
						return refuseFrame(connection, 'Observers watch: they cannot send ephemeral messages.');
					}
					room.sendEphemeral(connection, message.kind, message.data);
					return;
				case 'telemetry': {
					if (!canSendTelemetry(connection.auth.actor.role)) {
						return refuseFrame(
							connection,
							"Telemetry is a member's own data: only participants and bots send it."
						);
					}
					const result = this.#storeTelemetry(
						room.id,
						connection.auth.actor.id,
						message.samples,
						room.telemetryStage,
						(refused, text) =>
							send(connection, {
								type: 'error',
								code: 'telemetry_unstorable',
								message: `${text} (${refused})`
							})
					);
					send(connection, { type: 'telemetry', ...result });
					// Signal kinds also feed a group_metric stage's live metric (issue 5, item 9),
					// and quality kinds the live monitor.
					if (!('retryAfterMs' in result)) {
						room.ingestSignals(connection.auth.actor, message.samples);
						room.reportTelemetry(connection.auth.actor, message.samples);
					}
					return;
				}
			}
		} catch (error) {
			log.error('realtime.message_failed', {
				room: connection.auth.roomId,
				error: describeDatabaseError(error)
			});
			connection.close(CloseCode.InternalError, 'internal error');
		}
	}

	async #join(
		connection: Connection,
		member: Member,
		version: number,
		lastSeq: number
	): Promise<void> {
		if (member.room || member.joining) {
			send(connection, {
				type: 'error',
				code: 'already_joined',
				message: 'This socket already joined.'
			});
			return;
		}
		if (version !== PROTOCOL_VERSION) {
			send(connection, {
				type: 'incompatible',
				serverVersion: PROTOCOL_VERSION,
				message: `This server speaks protocol ${PROTOCOL_VERSION}; reload the page.`
			});
			connection.close(CloseCode.Incompatible, 'incompatible protocol version');
			return;
		}
		member.joining = true;
		const room = await this.#activate(connection.auth.roomId);
		if (!room) {
			connection.close(CloseCode.RoomNotFound, 'room not found');
			return;
		}
		if (!this.#members.has(connection)) return; // closed while the room was loading
		clearTimeout(member.joinTimer);
		this.#cancelUnload(room.id);
		await room.join(connection, lastSeq);
		member.room = room;
		member.joining = false;
		if (!this.#members.has(connection)) {
			room.leave(connection);
			if (room.memberCount === 0) this.#scheduleUnload(room.id);
		}
	}

	/**
	 * Queues one participant's samples for storage within their quota (telemetry-quota.ts): a
	 * batch over it is refused whole with `retryAfterMs`, and the client sends it again later.
	 */
	#storeTelemetry(
		roomId: string,
		actorId: string,
		samples: TelemetrySample[],
		stage: StageAllowance | undefined,
		onRefused?: RefusalListener
	): EnqueueResult {
		const identity = TelemetryQuota.identity(roomId, actorId);
		const now = Date.now();
		const quota = this.#quota.take(identity, samples.length, measureSamples(samples), now, stage);
		if (!quota.ok) {
			this.#options.metrics.telemetryOverQuota += samples.length;
			return { accepted: 0, retryAfterMs: quota.retryAfterMs };
		}
		return this.#options.telemetry.enqueue(roomId, actorId, samples, now, onRefused);
	}

	// --- Signals posted over HTTP ---------------------------------------------------------------

	/**
	 * Stores a member's signal samples posted over HTTP (`POST /s/<slug>/signals`) and feeds
	 * them to the room's live metric: here if the room is loaded, else over the bus to the
	 * replicas that have it. The caller has checked that `actor` belongs to `roomId`.
	 */
	async ingestSignals(
		roomId: string,
		actor: CommandActor,
		samples: TelemetrySample[]
	): Promise<EnqueueResult> {
		const room = await this.#rooms.get(roomId)?.catch(() => undefined);
		const result = this.#storeTelemetry(roomId, actor.id, samples, room?.telemetryStage);
		if ('retryAfterMs' in result) return result;
		if (room) room.ingestSignals(actor, samples);
		else {
			const message: BusRoomMessage = { k: 'sig', actor, samples };
			this.#options.bus.publish(roomTopic(roomId), JSON.stringify(message));
		}
		return result;
	}

	/**
	 * Runs one of the server's own commands with an id in `roomId` (loading the room here if
	 * needed; it unloads again when idle), exactly once by id across replicas: the log's unique
	 * (room, actor, id) index settles a race with another replica.
	 */
	async submitServerCommand(
		roomId: string,
		name: string,
		payload: unknown,
		id: string
	): Promise<ServerCommandResult> {
		return this.submitCommandAs(roomId, { id: 'system', role: 'system' }, name, payload, id);
	}

	/**
	 * Runs a command with an id for `actor` in `roomId` without a socket (an experimenter's
	 * intervention from the monitor), loading the room here if needed; exactly once by
	 * (actor, id) across replicas, resolving after the commit. The caller authorized `actor`.
	 */
	async submitCommandAs(
		roomId: string,
		actor: CommandActor,
		name: string,
		payload: unknown,
		id: string
	): Promise<ServerCommandResult> {
		if (this.#closing) {
			return { ok: false, reason: 'unavailable', message: 'The server is shutting down.' };
		}
		const room = await this.#activate(roomId);
		if (!room) return { ok: false, reason: 'room_not_found', message: 'No such room.' };
		this.#cancelUnload(roomId);
		const result = await room.submitAs(actor, name, payload, id);
		if (room.memberCount === 0) this.#scheduleUnload(roomId);
		return result;
	}

	// --- Rooms --------------------------------------------------------------------------------

	/**
	 * Loads a room whose deadline is due although nobody may be connected (the sweeper claimed
	 * it): once loaded its own timers fire, and it unloads again when idle. False when the room
	 * does not load (gone, or not a room this server can run).
	 */
	async wakeRoom(roomId: string): Promise<boolean> {
		if (this.#closing) return false;
		const room = await this.#activate(roomId);
		if (!room) return false;
		if (room.memberCount === 0 && !this.#idleTimers.has(roomId)) this.#scheduleUnload(roomId);
		return true;
	}

	/** Whether this replica has the room loaded (or loading). */
	hasRoom(roomId: string): boolean {
		return this.#rooms.has(roomId);
	}

	#activate(roomId: string): Promise<LiveRoom | undefined> {
		let loading = this.#rooms.get(roomId);
		if (!loading) {
			loading = this.#loadRoom(roomId);
			this.#rooms.set(roomId, loading);
			loading.then(
				(room) => {
					if (!room) this.#rooms.delete(roomId);
				},
				() => this.#rooms.delete(roomId)
			);
		}
		return loading;
	}

	async #loadRoom(roomId: string): Promise<LiveRoom | undefined> {
		const {
			store,
			bus,
			transport,
			metrics,
			now,
			replayLimit,
			studyRooms,
			presenceGraceMs,
			reconcileAfterMs,
			joinGraceMs,
			monitor
		} = this.#options;
		const room = await LiveRoom.load(roomId, {
			studyRooms,
			presenceGraceMs,
			reconcileAfterMs,
			joinGraceMs,
			monitor,
			store,
			committer: this.#committer,
			bus,
			transport,
			metrics,
			now,
			replayLimit
		});
		if (!room) return undefined;
		// Subscribe, then read the log once more: an event committed elsewhere between the load
		// and the subscription would otherwise only show up with the next one.
		this.#busUnsubscribers.set(
			roomId,
			bus.subscribe(roomTopic(roomId), (payload) => {
				room.receiveFromBus(JSON.parse(payload) as BusRoomMessage);
			})
		);
		await room.catchUp();
		room.greet();
		metrics.activeRooms = this.#rooms.size;
		return room;
	}

	#scheduleUnload(roomId: string): void {
		this.#cancelUnload(roomId);
		const timer = setTimeout(() => {
			this.#unloadIfEmpty(roomId).catch(logFailure(roomId, 'unload'));
		}, this.#options.idleRoomMs);
		timer.unref?.();
		this.#idleTimers.set(roomId, timer);
	}

	#cancelUnload(roomId: string): void {
		clearTimeout(this.#idleTimers.get(roomId));
		this.#idleTimers.delete(roomId);
	}

	async #unloadIfEmpty(roomId: string): Promise<void> {
		this.#idleTimers.delete(roomId);
		const room = await this.#rooms.get(roomId);
		if (!room || room.memberCount > 0) return;
		const wakeup = room.nextWakeup;
		const soon = wakeup !== null && wakeup - this.#options.now() < KEEP_LOADED_BEFORE_WAKEUP_MS;
		if (soon || room.reconciling) {
			this.#scheduleUnload(roomId);
			return;
		}
		this.#rooms.delete(roomId);
		room.dispose();
		this.#busUnsubscribers.get(roomId)?.();
		this.#busUnsubscribers.delete(roomId);
		this.#options.metrics.activeRooms = this.#rooms.size;
	}

	async #loadedRooms(): Promise<LiveRoom[]> {
		const rooms = await Promise.all([...this.#rooms.values()].map((p) => p.catch(() => undefined)));
		return rooms.filter((room): room is LiveRoom => room !== undefined);
	}

	/** Reads the log for every loaded room (after a bus outage; while the bus is unhealthy). */
	async catchUpAllRooms(): Promise<void> {
		for (const room of await this.#loadedRooms()) await room.catchUp();
	}

	async #refreshPresence(): Promise<void> {
		// On the in-process bus there is no other replica to tell.
		if (this.#options.bus.status().kind !== 'local') {
			const rooms = await this.#loadedRooms();
			for (let i = 0; i < rooms.length; i++) {
				rooms[i]!.refreshPresence();
				// Yield between slices: one burst for thousands of rooms stalls every socket.
				if (i % PRESENCE_SLICE === PRESENCE_SLICE - 1) await new Promise((r) => setImmediate(r));
			}
		}
		// While the bus is down, the log is the only way to hear about other replicas' events.
		if (!this.#options.bus.status().healthy) await this.catchUpAllRooms();
	}

	/** Records this replica as the host of its members' rooms that have no live host. */
	async #claimHosting(): Promise<void> {
		const hosted = (await this.#loadedRooms()).filter((room) => room.hostsMembers);
		const { store, bus } = this.#options;
		await store.claimHosting(
			bus.replicaId,
			hosted.map((room) => room.id),
			new Date(this.#options.now())
		);
	}

	/** Who is connected to a room loaded here (on any replica, from presence); [] when it is not. */
	async presentActors(roomId: string): Promise<string[]> {
		const room = await this.#rooms.get(roomId)?.catch(() => undefined);
		return room?.presentActors() ?? [];
	}

	// --- Sessions and shutdown ----------------------------------------------------------------

	/** Session ids behind the open experimenter sockets (for revocation checks). */
	sessionIds(): Set<string> {
		const ids = new Set<string>();
		for (const connection of this.#members.keys()) {
			if (connection.auth.sessionId) ids.add(connection.auth.sessionId);
		}
		return ids;
	}

	/** The access grants behind open sockets, one per socket (for the live access check). */
	grants(): { connection: Connection; grant: AccessGrant }[] {
		const held: { connection: Connection; grant: AccessGrant }[] = [];
		for (const connection of this.#members.keys()) {
			const grant = connection.auth.grant;
			if (grant) held.push({ connection, grant });
		}
		return held;
	}

	/** Closes every socket opened with one of these (revoked) sessions. */
	closeSessions(revoked: Set<string>): number {
		let closed = 0;
		for (const connection of this.#members.keys()) {
			if (connection.auth.sessionId && revoked.has(connection.auth.sessionId)) {
				connection.close(CloseCode.Unauthorized, 'session ended');
				closed++;
			}
		}
		return closed;
	}

	/** Closes every socket with 1001 so clients resume elsewhere, then commits what is queued. */
	async shutdown(): Promise<void> {
		if (this.#closing) return;
		this.#closing = true;
		clearInterval(this.#presenceTimer);
		clearInterval(this.#hostingTimer);
		this.#stopRecovery();
		for (const timer of this.#idleTimers.values()) clearTimeout(timer);
		for (const connection of [...this.#members.keys()]) {
			connection.close(CloseCode.GoingAway, 'server shutting down');
		}
		for (const room of await this.#loadedRooms()) room.dispose();
		await this.#committer.drain();
		for (const unsubscribe of this.#busUnsubscribers.values()) unsubscribe();
		await this.#options.telemetry.stop();
	}

	get commitStats() {
		return this.#committer.stats;
	}
}
