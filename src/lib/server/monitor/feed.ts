import { describeDatabaseError } from '../db/errors';
import type { RoomEvent } from '../../protocol';
import type { MonitorMemberQuality } from '../../monitor';
import { log } from '../log';
import type { Bus } from '../realtime/bus/types';
import type { TappedRoom } from './tap';

/** What travels on a study's topic. */
export type StudyFeedMessage =
	/**
	 * Events of a room loaded on this replica, and the room after them: in-process only (other
	 * replicas hear the events on `room:<id>`).
	 */
	| { k: 'events'; roomId: string; events: readonly RoomEvent[]; room: TappedRoom }
	/** The latest quality of some members of a room, from the replica their sockets are on. */
	| { k: 'quality'; roomId: string; members: Record<string, MonitorMemberQuality> }
	/** The waiting room or the study's rooms changed (a doorbell: read them again). */
	| { k: 'changed' };

export type StudyFeedHandler = (message: StudyFeedMessage) => void;

/** The bus topic of a study's monitor feed. */
export const studyTopic = (studyId: string) => `study:${studyId}`;

/**
 * Per-study messages for the live monitors, to this replica's monitors and (except room
 * events) to every other replica's over the bus. Like the room topics it is a doorbell: the
 * monitors read the database and the log for the record.
 */
export class StudyFeed {
	readonly #bus: Bus;
	readonly #local = new Map<string, Set<StudyFeedHandler>>();

	constructor(bus: Bus) {
		this.#bus = bus;
	}

	/** Whether a monitor on this replica listens to the study (cheap; checked before work). */
	hasListeners(studyId: string): boolean {
		return this.#local.has(studyId);
	}

	/** Listens to a study's feed, here and from other replicas; returns the unsubscribe. */
	subscribe(studyId: string, handler: StudyFeedHandler): () => void {
		let handlers = this.#local.get(studyId);
		if (!handlers) this.#local.set(studyId, (handlers = new Set()));
		handlers.add(handler);
		const unsubscribeBus = this.#bus.subscribe(studyTopic(studyId), (payload) => {
			let message: StudyFeedMessage;
			try {
				message = JSON.parse(payload) as StudyFeedMessage;
			} catch {
				return;
			}
			// Room events never cross replicas here: they come on the room's own topic.
			if (message.k !== 'events') handler(message);
		});
		return () => {
			unsubscribeBus();
			if (!handlers.delete(handler) || handlers.size > 0) return;
			if (this.#local.get(studyId) === handlers) this.#local.delete(studyId);
		};
	}

	/** Tells every replica's monitors of the study (room events: use `deliverLocal`). */
	publish(studyId: string, message: Exclude<StudyFeedMessage, { k: 'events' }>): void {
		this.deliverLocal(studyId, message);
		this.#bus.publish(studyTopic(studyId), JSON.stringify(message));
	}

	/** Tells this replica's monitors only, on a microtask (never inside the caller). */
	deliverLocal(studyId: string, message: StudyFeedMessage): void {
		const handlers = this.#local.get(studyId);
		if (!handlers) return;
		for (const handler of [...handlers]) {
			queueMicrotask(() => {
				try {
					handler(message);
				} catch (error) {
					log.error('monitor.feed_handler_failed', {
						studyId,
						error: describeDatabaseError(error)
					});
				}
			});
		}
	}
}
