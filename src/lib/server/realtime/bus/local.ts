import { runHandler, runListener } from './isolate';
import type { Bus, BusHandler, BusStatus } from './types';

/**
 * Several simulated replicas in one process. Each bus created from the network hears the
 * others' publishes, never its own. With a single bus (the embedded default) a publish
 * reaches nobody, exactly like a one-replica deployment on Redis.
 */
export type LocalNetwork = {
	createBus(replicaId: string): Bus;
	/**
	 * Test hook: simulates an outage of one replica's link. While down, its bus neither sends
	 * nor receives (messages are dropped, as Redis pub/sub drops them); when it comes back
	 * its `onRecovered` listeners fire.
	 */
	partition(replicaId: string, down: boolean): void;
};

type Member = {
	/** One entry per subscribe() call, so the same function subscribed twice counts twice. */
	topics: Map<string, Set<{ handler: BusHandler }>>;
	recovered: Set<() => void>;
	down: boolean;
};

/**
 * Creates an in-process network of buses.
 *
 * Delivery is asynchronous, on a microtask, in publish order: a handler never runs inside
 * the publisher's own `publish()` call (as with any real network), yet everything published
 * is delivered before the next timer or I/O callback, so a test needs only
 * `await Promise.resolve()` (or any later await) before it checks.
 */
export function createLocalNetwork(): LocalNetwork {
	const members = new Map<string, Member>();

	function deliver(to: Member, topic: string, payload: string, origin: string): void {
		if (to.down) return;
		const entries = to.topics.get(topic);
		if (!entries) return;
		// Copy: a handler may unsubscribe (itself or others) while we iterate.
		for (const { handler } of [...entries]) runHandler(handler, topic, payload, origin);
	}

	function createBus(replicaId: string): Bus {
		if (members.has(replicaId)) {
			throw new Error(`a bus for replica ${replicaId} already exists on this network`);
		}
		const self: Member = { topics: new Map(), recovered: new Set(), down: false };
		members.set(replicaId, self);
		let closed = false;

		return {
			replicaId,
			subscribe(topic, handler) {
				const entry = { handler };
				let entries = self.topics.get(topic);
				if (!entries) self.topics.set(topic, (entries = new Set()));
				entries.add(entry);
				return () => {
					if (!entries.delete(entry)) return;
					if (entries.size === 0 && self.topics.get(topic) === entries) self.topics.delete(topic);
				};
			},
			publish(topic, payload) {
				if (closed || self.down) return;
				for (const [id, member] of members) {
					if (id === replicaId) continue;
					queueMicrotask(() => deliver(member, topic, payload, replicaId));
				}
			},
			onRecovered(listener) {
				self.recovered.add(listener);
				return () => void self.recovered.delete(listener);
			},
			status(): BusStatus {
				return {
					kind: 'local',
					healthy: !closed && !self.down,
					topics: self.topics.size,
					detail: closed ? 'closed' : self.down ? 'partitioned' : undefined
				};
			},
			async close() {
				closed = true;
				self.topics.clear();
				self.recovered.clear();
				if (members.get(replicaId) === self) members.delete(replicaId);
			}
		};
	}

	function partition(replicaId: string, down: boolean): void {
		const member = members.get(replicaId);
		if (!member || member.down === down) return;
		member.down = down;
		if (down) return;
		// Same timing as delivery: never re-entrantly inside the caller.
		queueMicrotask(() => {
			for (const listener of [...member.recovered]) runListener(listener);
		});
	}

	return { createBus, partition };
}
