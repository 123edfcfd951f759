import type { WebSocketHandler } from 'bun';
import type { AvRecordPayload } from '../../room/study';
import { findLiveSessionIds, touchSessions } from '../auth/sessions';
import type { Env } from '../config/env';
import type { Database } from '../db';
import { createEgressApi } from '../livekit/egress';
import { manageAvStages } from '../livekit/av-stages';
import { createLiveKitService } from '../livekit/service';
import { log } from '../log';
import { createBus, type Bus } from './bus';
import { createBunTransport, createWebSocketHandler, type SocketData } from './bun-adapter';
import { createStudyRoomServices } from '../rooms/study-rooms';
import { EventStore } from './event-store';
import { RealtimeHub } from './hub';
import { getRealtimeMetrics, type RealtimeMetrics } from './metrics';
import { TelemetryWriter } from './telemetry-writer';

/** Revoked sessions lose their sockets within this interval (the requirement is 1 s). */
const REVOCATION_CHECK_MS = 500;
/** An open experimenter socket counts as activity for the inactivity timeout. */
const SESSION_TOUCH_MS = 60_000;

export type RealtimeRuntime = {
	hub: RealtimeHub;
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

/** Starts the hub, the bus, the telemetry writer and the session watcher. */
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
	const hub = new RealtimeHub({
		store: new EventStore(db),
		bus,
		transport,
		telemetry,
		metrics,
		replayLimit: env.realtimeReplayLimit,
		studyRooms: createStudyRoomServices(db, {
			afterEffects: avStages
				? (roomId, setup, events) => manageAvStages(avStages, roomId, setup, events)
				: undefined
		})
	});
	late.hub = hub;

	let checking = false;
	const checkSessions = async () => {
		if (checking) return;
		checking = true;
		try {
			const ids = [...hub.sessionIds()];
			const live = await findLiveSessionIds(db, ids, new Date());
			const revoked = new Set(ids.filter((id) => !live.has(id)));
			if (revoked.size > 0)
				log.info('realtime.sessions_revoked', { sockets: hub.closeSessions(revoked) });
		} catch (error) {
			log.warn('realtime.session_check_failed', { error: (error as Error).message });
		} finally {
			checking = false;
		}
	};
	const revocationTimer = setInterval(() => void checkSessions(), REVOCATION_CHECK_MS);
	const touchTimer = setInterval(
		() => void touchSessions(db, [...hub.sessionIds()], new Date()).catch(() => undefined),
		SESSION_TOUCH_MS
	);
	revocationTimer.unref?.();
	touchTimer.unref?.();

	const runtime: RealtimeRuntime = {
		hub,
		bus,
		metrics,
		transport,
		websocket: createWebSocketHandler(hub),
		stop: async () => {
			clearInterval(revocationTimer);
			clearInterval(touchTimer);
			await hub.shutdown();
			await bus.close();
			delete (globalThis as RuntimeGlobal)[KEY];
		}
	};
	(globalThis as RuntimeGlobal)[KEY] = runtime;
	log.info('realtime.started', { replica: env.replicaId, bus: bus.status().kind });
	return runtime;
}
