/**
 * The bus between replicas. It is a doorbell, not the record: delivery is at-most-once and the
 * event log in the database is the truth. Every room message carries seqs, so a receiver that
 * sees a gap (or hears that the bus lost messages) reads the log instead.
 *
 * Two implementations: in-process (the embedded default, and several simulated replicas in one
 * test process) and Redis (ioredis: one publisher, one dedicated subscriber, per-topic SUBSCRIBE
 * with reference counts, origin tagging, a canary).
 */

export type BusHandler = (payload: string, origin: string) => void;

export type BusStatus = {
	kind: 'local' | 'redis';
	/** False while the bus cannot deliver (Redis down, subscriber stale). */
	healthy: boolean;
	/** Topics this replica is subscribed to. */
	topics: number;
	/** Last measured publish → own-subscriber delay of the canary, ms (Redis only). */
	lagMs?: number;
	detail?: string;
};

export interface Bus {
	/** Identifies this replica; messages it publishes are never delivered back to it. */
	readonly replicaId: string;
	/**
	 * Subscribes `handler` to `topic` (e.g. `room:abc`). Subscriptions are reference counted:
	 * the underlying SUBSCRIBE happens for the first handler and UNSUBSCRIBE after the last.
	 * Returns the function that removes this handler.
	 */
	subscribe(topic: string, handler: BusHandler): () => void;
	/** Fire and forget. Never queues without bound while disconnected: it drops instead. */
	publish(topic: string, payload: string): void;
	/**
	 * Called whenever messages may have been lost: the subscriber reconnected after an outage,
	 * or the canary found it silently deaf and it was resubscribed. Listeners catch up from
	 * the log. Returns the function that removes the listener.
	 */
	onRecovered(listener: () => void): () => void;
	status(): BusStatus;
	close(): Promise<void>;
}
