import { describeDatabaseError } from '../db/errors';
import type { RoomEvent } from '../../protocol';
import {
	changesOutcomes,
	foldRoomEvents,
	MONITOR_PROTOCOL_VERSION,
	mergeQuality,
	summarizeRoom,
	type MonitorMemberQuality,
	type MonitorRoom,
	type MonitorServerMessage,
	type MonitorWaiting,
	type OutcomeCount,
	type WatchedRoom
} from '../../monitor';
import type { StudyAccess } from '../studies/types';
import type { Database } from '../db';
import { log } from '../log';
import type { Bus } from '../realtime/bus/types';
import { roomTopic } from '../realtime/connection';
import type { EventStore } from '../realtime/event-store';
import type { AccessGrant } from '../realtime/grants';
import type { BusRoomMessage } from '../realtime/live-room';
import type { StudyFeed, StudyFeedMessage } from './feed';
import {
	countOutcomes,
	listStudyRooms,
	loadWatchedRoom,
	readRoomLog,
	readWaitingRoom
} from './queries';

/** Who a monitor socket belongs to, decided before the upgrade. */
export type MonitorAuth = {
	studyId: string;
	userId: string;
	/** The session the dashboard keeps active. */
	sessionId: string;
	access: StudyAccess;
	/** The access that must still hold for the socket to stay open (checked twice a second). */
	grant: AccessGrant;
};

/** What a study monitor needs from a socket; the Bun adapter and tests implement it. */
export interface MonitorConnection {
	readonly id: string;
	readonly auth: MonitorAuth;
	send(frame: string): void;
	close(code: number, reason: string): void;
}

export type StudyMonitorDeps = {
	db: Database;
	store: Pick<EventStore, 'readEvents'>;
	bus: Bus;
	feed: StudyFeed;
	/** Server clock, ms since the epoch. */
	now?: () => number;
	/** Changed rooms are sent together after this long: one frame per burst of events. */
	flushMs?: number;
	/** The waiting room and the room list are re-read at most this often (doorbells coalesce). */
	refreshMs?: number;
	/** The waiting room and the room list are also re-read this often (missed doorbells, ghosts). */
	sweepMs?: number;
	/** Finished rooms kept in the picture (the newest); the counts cover every room. */
	finishedKept?: number;
};

/** 50 ms: well inside the 1 s the issue allows, and a burst of events still makes one frame. */
const FLUSH_MS = 50;
/** The coalescing interval the design suggests for the waiting room's doorbell. */
const REFRESH_MS = 200;
/** Ghosts leave the waiting room by time alone, and the bus may drop a doorbell. */
const SWEEP_MS = 5_000;
const FINISHED_KEPT = 30;
/** Rooms folded at once on the first load (each reads its setup and its log). */
const LOAD_CONCURRENCY = 8;
/**
 * New rooms are looked for from a minute before the newest known one: rooms are stamped by the
 * clock of the replica that formed them, and replicas' clocks may disagree a little.
 */
const NEW_ROOM_SLACK_MS = 60_000;

/** One room as a monitor watches it: folded state, its bus subscription, one chain of work. */
class RoomWatch {
	room: WatchedRoom | undefined;
	unsubscribe: (() => void) | undefined;
	#chain: Promise<unknown> = Promise.resolve();

	constructor(readonly id: string) {}

	/** Runs `task` after the work queued before it; a failure does not block the rest. */
	run(task: () => Promise<void> | void): Promise<void> {
		const result = this.#chain.then(task);
		this.#chain = result.catch((error: unknown) => {
			log.error('monitor.room_failed', { room: this.id, error: describeDatabaseError(error) });
		});
		return this.#chain as Promise<void>;
	}
}

/**
 * The live picture of one study on this replica, shared by every dashboard open on it here:
 * the study's running rooms (folded from their logs with the room reducer, kept current by the
 * rooms' bus topics and this replica's own rooms), members' latest quality, the waiting room
 * and the outcome counts. Sends each dashboard a snapshot, then the rooms that changed.
 */
export class StudyMonitor {
	readonly studyId: string;
	readonly #deps: Required<Omit<StudyMonitorDeps, 'now'>> & { now: () => number };
	readonly #connections = new Set<MonitorConnection>();
	readonly #watches = new Map<string, RoomWatch>();
	readonly #quality = new Map<string, Map<string, MonitorMemberQuality>>();
	#waiting: MonitorWaiting = { waiters: [], versions: [] };
	#counts: OutcomeCount[] = [];
	#ready: Promise<void> = Promise.resolve();
	readonly #dirty = new Set<string>();
	#flushTimer: ReturnType<typeof setTimeout> | undefined;
	#refreshTimer: ReturnType<typeof setTimeout> | undefined;
	#refreshPending = false;
	#refreshing: Promise<void> = Promise.resolve();
	#countsTimer: ReturnType<typeof setTimeout> | undefined;
	#sweepTimer: ReturnType<typeof setInterval> | undefined;
	#newestRoomAt = 0;
	#cleanups: (() => void)[] = [];
	#stopped = false;

	constructor(studyId: string, deps: StudyMonitorDeps) {
		this.studyId = studyId;
		this.#deps = {
			now: Date.now,
			flushMs: FLUSH_MS,
			refreshMs: REFRESH_MS,
			sweepMs: SWEEP_MS,
			finishedKept: FINISHED_KEPT,
			...deps
		};
	}

	/** Subscribes to the study's feed and the bus's recovery, then loads the picture. */
	start(): Promise<void> {
		const { feed, bus, sweepMs } = this.#deps;
		this.#cleanups.push(feed.subscribe(this.studyId, (message) => this.#onFeed(message)));
		this.#cleanups.push(bus.onRecovered(() => this.#catchUpAll()));
		this.#sweepTimer = setInterval(() => this.#sweep(), sweepMs);
		this.#sweepTimer.unref?.();
		this.#ready = this.#load().catch((error: unknown) => {
			log.error('monitor.load_failed', {
				studyId: this.studyId,
				error: describeDatabaseError(error)
			});
		});
		return this.#ready;
	}

	get connectionCount(): number {
		return this.#connections.size;
	}

	/** Adds a dashboard; it gets the snapshot once the picture is loaded. */
	add(connection: MonitorConnection): void {
		this.#connections.add(connection);
		void this.#ready.then(() => {
			if (this.#connections.has(connection)) this.sendSnapshot(connection);
		});
	}

	remove(connection: MonitorConnection): void {
		this.#connections.delete(connection);
	}

	/** The whole picture for one dashboard. */
	sendSnapshot(connection: MonitorConnection): void {
		connection.send(
			JSON.stringify({
				type: 'snapshot',
				v: MONITOR_PROTOCOL_VERSION,
				at: this.#deps.now(),
				rooms: this.listRooms(),
				waiting: this.#waiting,
				counts: this.#counts
			} satisfies MonitorServerMessage)
		);
	}

	/** Every room in the picture, summarized (tests and snapshots). */
	listRooms(): MonitorRoom[] {
		return [...this.#watches.values()].flatMap((watch) =>
			watch.room ? [this.#summarize(watch.room)] : []
		);
	}

	/** Waits until the first load (and any refresh under way) is done (tests, the bench). */
	async settled(): Promise<void> {
		await this.#ready;
		await this.#refreshing;
		await Promise.all([...this.#watches.values()].map((watch) => watch.run(() => undefined)));
	}

	stop(): void {
		this.#stopped = true;
		for (const cleanup of this.#cleanups) cleanup();
		this.#cleanups = [];
		for (const watch of this.#watches.values()) watch.unsubscribe?.();
		this.#watches.clear();
		clearInterval(this.#sweepTimer);
		clearTimeout(this.#flushTimer);
		clearTimeout(this.#refreshTimer);
		clearTimeout(this.#countsTimer);
	}

	// --- Loading ------------------------------------------------------------------------------

	async #load(): Promise<void> {
		const { db, finishedKept } = this.#deps;
		const rows = await listStudyRooms(db, this.studyId);
		this.#newestRoomAt = Math.max(0, ...rows.map((row) => row.createdAt));
		const chosen = [
			...rows.filter((row) => row.running),
			...rows.filter((row) => !row.running).slice(0, finishedKept)
		];
		for (let i = 0; i < chosen.length; i += LOAD_CONCURRENCY) {
			await Promise.all(
				chosen.slice(i, i + LOAD_CONCURRENCY).map((row) => this.#watch(row.id, row.running))
			);
		}
		[this.#waiting, this.#counts] = await Promise.all([
			readWaitingRoom(db, this.studyId, new Date(this.#deps.now())),
			countOutcomes(db, this.studyId)
		]);
		this.#dirty.clear(); // The snapshot carries everything loaded so far.
	}

	/**
	 * Starts watching a room: subscribe to its topic first, then fold its log, so an event
	 * committed in between is either in the log or arrives after (and is skipped if both).
	 */
	async #watch(roomId: string, subscribe: boolean): Promise<void> {
		if (this.#watches.has(roomId) || this.#stopped) return;
		const watch = new RoomWatch(roomId);
		this.#watches.set(roomId, watch);
		if (subscribe) {
			watch.unsubscribe = this.#deps.bus.subscribe(roomTopic(roomId), (payload) =>
				this.#onRoomBus(watch, payload)
			);
		}
		await watch.run(async () => {
			const room = await loadWatchedRoom(this.#deps.db, this.#deps.store, roomId);
			if (!room) {
				watch.unsubscribe?.();
				this.#watches.delete(roomId);
				return;
			}
			watch.room = room;
			this.#afterChange(watch, []);
		});
	}

	/** Watches a room of this replica from the state its LiveRoom handed over. */
	#adopt(roomId: string, message: Extract<StudyFeedMessage, { k: 'events' }>): void {
		if (this.#watches.has(roomId) || this.#stopped) return;
		const watch = new RoomWatch(roomId);
		this.#watches.set(roomId, watch);
		// Members on other replicas: their events come on the room's topic from now on, and
		// anything in between shows up as a gap (read from the log).
		watch.unsubscribe = this.#deps.bus.subscribe(roomTopic(roomId), (payload) =>
			this.#onRoomBus(watch, payload)
		);
		const { shell, formedAt } = message.room;
		watch.room = {
			id: roomId,
			shell,
			formedAt,
			updatedAt: message.events.at(-1)?.at ?? formedAt
		};
		this.#afterChange(watch, message.events);
	}

	// --- Incoming -----------------------------------------------------------------------------

	#onFeed(message: StudyFeedMessage): void {
		if (this.#stopped) return;
		switch (message.k) {
			case 'events': {
				const watch = this.#watches.get(message.roomId);
				if (watch) this.#receive(watch, message.events);
				// A room of this study on this replica we do not know yet (a group just formed):
				// start from the room's own state, no need to read its log.
				else if (!message.room.shell.study.finished) this.#adopt(message.roomId, message);
				return;
			}
			case 'quality': {
				const watch = this.#watches.get(message.roomId);
				if (!watch?.room || watch.room.shell.study.finished) return;
				const members = this.#quality.get(message.roomId) ?? new Map();
				for (const [memberId, quality] of Object.entries(message.members)) {
					members.set(memberId, mergeQuality(members.get(memberId), quality));
				}
				this.#quality.set(message.roomId, members);
				this.#markDirty(message.roomId);
				return;
			}
			case 'changed':
				this.#scheduleRefresh();
				return;
		}
	}

	/** A room's own topic: its events, and heartbeats whose head reveals a lost message. */
	#onRoomBus(watch: RoomWatch, payload: string): void {
		if (this.#stopped) return;
		let message: BusRoomMessage;
		try {
			message = JSON.parse(payload) as BusRoomMessage;
		} catch {
			return;
		}
		if (message.k === 'events') this.#receive(watch, message.events);
		else if (message.k === 'presence' && message.head > (watch.room?.shell.seq ?? 0)) {
			this.#catchUp(watch);
		}
	}

	/** Folds events that follow the head; anything else makes the room read its log. */
	#receive(watch: RoomWatch, events: readonly RoomEvent[]): void {
		void watch.run(async () => {
			if (!watch.room) return;
			const folded = foldRoomEvents(watch.room, events);
			if (folded.ok) {
				watch.room = folded.room;
				this.#afterChange(watch, folded.applied);
				return;
			}
			const before = watch.room.shell.seq;
			watch.room = await readRoomLog(this.#deps.store, watch.room);
			if (watch.room.shell.seq !== before) this.#afterChange(watch, events);
		});
	}

	#catchUp(watch: RoomWatch): void {
		void watch.run(async () => {
			if (!watch.room) return;
			const before = watch.room.shell.seq;
			watch.room = await readRoomLog(this.#deps.store, watch.room);
			// The events are not at hand here; the counts are re-read in case an outcome was among them.
			if (watch.room.shell.seq !== before) this.#afterChange(watch, [], true);
		});
	}

	/** Reads the log of every running room (the bus lost messages, or is down). */
	#catchUpAll(): void {
		for (const watch of this.#watches.values()) {
			if (watch.room && !watch.room.shell.study.finished) this.#catchUp(watch);
		}
	}

	#afterChange(watch: RoomWatch, applied: readonly RoomEvent[], maybeOutcomes = false): void {
		const room = watch.room!;
		this.#markDirty(room.id);
		if (maybeOutcomes || changesOutcomes(applied)) this.#scheduleCounts();
		if (room.shell.study.finished) {
			// A finished room changes no more (recording facts aside): stop listening to it.
			watch.unsubscribe?.();
			watch.unsubscribe = undefined;
			this.#quality.delete(room.id);
			this.#trimFinished();
		}
	}

	#trimFinished(): void {
		const finished = [...this.#watches.values()]
			.filter((watch) => watch.room?.shell.study.finished)
			.sort((a, b) => b.room!.shell.study.finished!.at - a.room!.shell.study.finished!.at);
		for (const watch of finished.slice(this.#deps.finishedKept)) this.#watches.delete(watch.id);
	}

	// --- Refreshing the waiting room, the room list and the counts -----------------------------

	/**
	 * Re-reads at once, then at most once per `refreshMs`: doorbells in between make one more
	 * read at the end of the interval (the formation runner rings every second per study).
	 */
	#scheduleRefresh(): void {
		if (this.#stopped) return;
		if (this.#refreshTimer) {
			this.#refreshPending = true;
			return;
		}
		this.#refreshing = this.#refreshing.then(() => this.#refresh()).catch(this.#logFailure);
		this.#refreshTimer = setTimeout(() => {
			this.#refreshTimer = undefined;
			if (!this.#refreshPending) return;
			this.#refreshPending = false;
			this.#scheduleRefresh();
		}, this.#deps.refreshMs);
	}

	async #refresh(): Promise<void> {
		if (this.#stopped) return;
		const { db } = this.#deps;
		const rows = await listStudyRooms(db, this.studyId, this.#newestRoomAt - NEW_ROOM_SLACK_MS);
		this.#newestRoomAt = Math.max(this.#newestRoomAt, ...rows.map((row) => row.createdAt));
		const fresh = rows.filter((row) => row.running && !this.#watches.has(row.id));
		for (let i = 0; i < fresh.length; i += LOAD_CONCURRENCY) {
			await Promise.all(
				fresh.slice(i, i + LOAD_CONCURRENCY).map((row) => this.#watch(row.id, true))
			);
		}
		const waiting = await readWaitingRoom(db, this.studyId, new Date(this.#deps.now()));
		if (JSON.stringify(waiting) !== JSON.stringify(this.#waiting)) {
			this.#waiting = waiting;
			this.#broadcast({ type: 'waiting', at: this.#deps.now(), waiting });
		}
		await this.#refreshCounts();
	}

	#scheduleCounts(): void {
		if (this.#countsTimer || this.#stopped) return;
		// Outcome rows are written just after the commit (recordEffects): give them a moment.
		this.#countsTimer = setTimeout(() => {
			this.#countsTimer = undefined;
			this.#refreshCounts().catch(this.#logFailure);
		}, this.#deps.refreshMs);
	}

	async #refreshCounts(): Promise<void> {
		const counts = await countOutcomes(this.#deps.db, this.studyId);
		if (this.#stopped || JSON.stringify(counts) === JSON.stringify(this.#counts)) return;
		this.#counts = counts;
		this.#broadcast({ type: 'counts', at: this.#deps.now(), counts });
	}

	#sweep(): void {
		this.#scheduleRefresh();
		// While the bus is down, the log is the only way to hear about other replicas' events.
		if (!this.#deps.bus.status().healthy) this.#catchUpAll();
	}

	readonly #logFailure = (error: unknown) => {
		log.error('monitor.refresh_failed', {
			studyId: this.studyId,
			error: describeDatabaseError(error)
		});
	};

	// --- Sending ------------------------------------------------------------------------------

	#summarize(room: WatchedRoom): MonitorRoom {
		return summarizeRoom(room, this.#quality.get(room.id));
	}

	#markDirty(roomId: string): void {
		this.#dirty.add(roomId);
		if (this.#flushTimer || this.#stopped) return;
		this.#flushTimer = setTimeout(() => this.#flush(), this.#deps.flushMs);
	}

	#flush(): void {
		this.#flushTimer = undefined;
		const rooms = [...this.#dirty].flatMap((id) => {
			const room = this.#watches.get(id)?.room;
			return room ? [this.#summarize(room)] : [];
		});
		this.#dirty.clear();
		if (rooms.length > 0) this.#broadcast({ type: 'rooms', at: this.#deps.now(), rooms });
	}

	#broadcast(message: MonitorServerMessage): void {
		if (this.#connections.size === 0) return;
		const frame = JSON.stringify(message);
		for (const connection of this.#connections) connection.send(frame);
	}
}
