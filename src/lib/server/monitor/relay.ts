import type { RoomEvent, TelemetrySample } from '../../protocol';
import {
	isQualityKind,
	recordQualitySample,
	summarizeQuality,
	type MemberQualityState,
	type MonitorMemberQuality
} from '../../monitor';
import type { StudyFeed } from './feed';
import type { RoomMonitorTap, TappedRoom } from './tap';

/**
 * A room's quality goes out at most this often: a member reports sync quality every second, and
 * a dashboard needs no more; one message per room per second also bounds the bus traffic.
 */
const QUALITY_RELAY_MS = 1_000;
/** A room nobody reported quality for in this long is forgotten (it ended, or moved replica). */
const QUALITY_IDLE_MS = 10 * 60_000;

type RoomQuality = {
	studyId: string;
	members: Map<string, MemberQualityState>;
	/** Members whose figures changed since the last relay. */
	changed: Set<string>;
	timer: ReturnType<typeof setTimeout> | undefined;
	lastSampleAt: number;
};

/**
 * This replica's side of the monitor for the rooms it hosts: it hands committed events to the
 * local monitors, and keeps the latest quality of the members whose sockets are here (the
 * telemetry arrives nowhere else), relaying a summary per room at most once a second to every
 * replica's monitors through the study feed.
 */
export class MonitorRelay implements RoomMonitorTap {
	readonly #feed: StudyFeed;
	readonly #now: () => number;
	readonly #relayMs: number;
	readonly #rooms = new Map<string, RoomQuality>();
	readonly #sweep: ReturnType<typeof setInterval>;

	constructor(feed: StudyFeed, options: { now?: () => number; relayMs?: number } = {}) {
		this.#feed = feed;
		this.#now = options.now ?? Date.now;
		this.#relayMs = options.relayMs ?? QUALITY_RELAY_MS;
		this.#sweep = setInterval(() => this.#forgetIdle(), 60_000);
		this.#sweep.unref?.();
	}

	roomEvents(
		studyId: string,
		roomId: string,
		events: readonly RoomEvent[],
		room: TappedRoom
	): void {
		if (events.some((event) => event.name === 'room.finished')) this.#forget(roomId);
		if (this.#feed.hasListeners(studyId)) {
			this.#feed.deliverLocal(studyId, { k: 'events', roomId, events, room });
		}
	}

	telemetry(
		studyId: string,
		roomId: string,
		memberId: string,
		samples: readonly TelemetrySample[]
	): void {
		const quality = samples.filter((sample) => isQualityKind(sample.kind));
		if (quality.length === 0) return;
		const now = this.#now();
		let room = this.#rooms.get(roomId);
		if (!room) {
			room = {
				studyId,
				members: new Map(),
				changed: new Set(),
				timer: undefined,
				lastSampleAt: now
			};
			this.#rooms.set(roomId, room);
		}
		const before = room.members.get(memberId);
		let state = before;
		for (const sample of quality) state = recordQualitySample(state, sample, now);
		room.lastSampleAt = now;
		if (!state || state === before) return;
		room.members.set(memberId, state);
		room.changed.add(memberId);
		room.timer ??= setTimeout(() => this.#relay(roomId), this.#relayMs);
	}

	#relay(roomId: string): void {
		const room = this.#rooms.get(roomId);
		if (!room) return;
		room.timer = undefined;
		const members: Record<string, MonitorMemberQuality> = {};
		for (const memberId of room.changed) {
			members[memberId] = summarizeQuality(room.members.get(memberId));
		}
		room.changed.clear();
		if (Object.keys(members).length > 0) {
			this.#feed.publish(room.studyId, { k: 'quality', roomId, members });
		}
	}

	#forget(roomId: string): void {
		clearTimeout(this.#rooms.get(roomId)?.timer);
		this.#rooms.delete(roomId);
	}

	#forgetIdle(): void {
		const cutoff = this.#now() - QUALITY_IDLE_MS;
		for (const [roomId, room] of this.#rooms) if (room.lastSampleAt < cutoff) this.#forget(roomId);
	}

	/** Rooms with quality held here (tests, metrics). */
	get roomCount(): number {
		return this.#rooms.size;
	}

	stop(): void {
		clearInterval(this.#sweep);
		for (const roomId of [...this.#rooms.keys()]) this.#forget(roomId);
	}
}
