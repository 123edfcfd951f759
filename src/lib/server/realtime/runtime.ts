import type { WebSocketHandler } from 'bun';
import type { AvRecordPayload } from '../../room/study';
import { touchSessions } from '../auth/sessions';
import type { Env } from '../config/env';
import type { Database } from '../db';
import { createEgressApi } from '../livekit/egress';
import { manageAvStages } from '../livekit/av-stages';
import { createLiveKitService } from '../livekit/service';
import { log } from '../log';
import { installStudyDoorbell } from '../monitor/doorbell';
import { StudyFeed } from '../monitor/feed';
import { MonitorHub } from '../monitor/monitor-hub';
import { MonitorRelay } from '../monitor/relay';
import { startAccessWatch } from './access-watch';
import { createBus, type Bus } from './bus';
import { createBunTransport, createWebSocketHandler, type SocketData } from './bun-adapter';
import { createStudyRoomServices } from '../rooms/study-rooms';
import { startReplicaHeartbeat } from '../rooms/replicas';
import { startRoomSweeper } from '../rooms/sweeper';
import { EventStore } from './event-store';
import { RealtimeHub } from './hub';
import { getRealtimeMetrics, type RealtimeMetrics } from './metrics';
import { TelemetryWriter } from './telemetry-writer';

/** An open experimenter socket counts as activity for the inactivity timeout. */
const SESSION_TOUCH_MS = 60_000;

export type RealtimeRuntime = {
	hub: RealtimeHub;
	/** The study-monitor sockets (live dashboards) of this replica. */
	monitors: MonitorHub;
	bus: Bus;
	metrics: RealtimeMetrics;
	websocket: WebSocketHandler<SocketData>;
	transport: ReturnType<typeof createBunTransport>;
	stop: () => Promise<void>;
};

const KEY = Symbol.for('ensemble.realtime');
type RuntimeGlobal = { [KEY]?: RealtimeRuntime };

/** The running realtime runtime, when the Bun entry started one (readiness reads the bus). */
export function getRealtime(): RealtimeRuntime | undefined {
	return (globalThis as RuntimeGlobal)[KEY];
}

/** Starts the hub, the bus, the telemetry writer and the access watcher. */
export function startRealtime(env: Env, db: Database): RealtimeRuntime {
	const metrics = getRealtimeMetrics();
	const bus = createBus({ redisUrl: env.redisUrl, replicaId: env.replicaId });
	const transport = createBunTransport();
	const telemetry = new TelemetryWriter(db, metrics);
	telemetry.start();
	// Conversation stages (recordings, closing) submit facts back into rooms through the hub below.
	const late: { hub?: RealtimeHub } = {};
	const livekit = env.livekit;
	const avStages = livekit && {
		db,
		egress: createEgressApi(livekit),
		rooms: createLiveKitService(livekit),
		submit: (roomId: string, record: AvRecordPayload, id: string) =>
			late.hub
				? late.hub.submitServerCommand(roomId, 'av.record', record, id)
				: Promise.resolve({ ok: false as const, reason: 'unavailable', message: 'No hub.' }),
		now: () => Date.now()
	};
	const store = new EventStore(db);
	// The live monitor: rooms report to the relay, dashboards listen on the study feed, and the
	// matching lock rings the doorbell after every change to a waiting room.
	const feed = new StudyFeed(bus);
	const relay = new MonitorRelay(feed);
	const monitors = new MonitorHub({
		db,
		store,
		bus,
		feed,
		socketsPerSession: env.socketCaps.perSession
	});
	const removeDoorbell = installStudyDoorbell((studyId) => feed.publish(studyId, { k: 'changed' }));
	const hub = new RealtimeHub({
		store,
		monitor: relay,
		bus,
		transport,
		telemetry,
		metrics,
		replayLimit: env.realtimeReplayLimit,
		socketCaps: env.socketCaps,
		studyRooms: createStudyRoomServices(db, {
			afterEffects: avStages
				? (roomId, setup, events) => manageAvStages(avStages, roomId, setup, events)
				: undefined
		})
	});
	late.hub = hub;
	// No room waits forever: this replica says it is alive, and loads rooms that are due with
	// nobody connected, or whose host replica died (rooms/sweeper.ts).
	const stopHeartbeat = startReplicaHeartbeat(db, bus.replicaId);
	const stopSweeper = startRoomSweeper(db, (roomId) => hub.wakeRoom(roomId));

	// Sessions ended, studies unshared, people demoted or disabled: their sockets close.
	const stopAccessWatch = startAccessWatch(db, () => [...hub.grants(), ...monitors.grants()]);
	const touchTimer = setInterval(() => {
		const ids = [...new Set([...hub.sessionIds(), ...monitors.sessionIds()])];
		void touchSessions(db, ids, new Date()).catch(() => undefined);
	}, SESSION_TOUCH_MS);
	touchTimer.unref?.();

	const runtime: RealtimeRuntime = {
		hub,
		monitors,
		bus,
		metrics,
		transport,
		websocket: createWebSocketHandler(hub, monitors),
		stop: async () => {
			stopSweeper();
			stopAccessWatch();
			clearInterval(touchTimer);
			removeDoorbell();
			monitors.shutdown();
			relay.stop();
			await hub.shutdown();
			await stopHeartbeat();
			await bus.close();
			delete (globalThis as RuntimeGlobal)[KEY];
		}
	};
	(globalThis as RuntimeGlobal)[KEY] = runtime;
	log.info('realtime.started', { replica: env.replicaId, bus: bus.status().kind });
	return runtime;
}
