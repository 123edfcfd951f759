import { Redis, type RedisOptions } from 'ioredis';
import { log as defaultLog } from '../../log';
import { describeError, runHandler, runListener } from './isolate';
import type { Bus, BusHandler, BusStatus } from './types';

export type RedisBusOptions = {
	url: string;
	replicaId: string;
	/** How often the canary checks that our own subscriber still hears us. */
	canaryIntervalMs?: number;
	/** A canary not heard back within this long means the subscriber is deaf. */
	canaryTimeoutMs?: number;
	log?: typeof defaultLog;
};

/** Counters for /metrics and tests. */
export type RedisBusStats = {
	published: number;
	/** Publishes dropped because Redis was unreachable or too many were in flight. */
	dropped: number;
	/** Publishes written and not yet acknowledged: bounded by MAX_IN_FLIGHT. */
	inFlight: number;
	received: number;
	/** Messages without an origin tag (not written by this bus): ignored. */
	malformed: number;
	recoveries: number;
	canariesMissed: number;
};

export type RedisBus = Bus & {
	stats(): RedisBusStats;
	/**
	 * Test hook: unsubscribes the subscriber connection from every channel behind the bus's
	 * back, so it silently stops hearing anything without a disconnect. The canary must notice.
	 */
	deafenSubscriberForTest(): Promise<void>;
};

/** A stalled but still-open socket must not let publishes pile up in memory. */
const MAX_IN_FLIGHT = 10_000;
/** Reconnect backoff: quick first retry, then capped so recovery after an outage is prompt. */
const RETRY_BASE_MS = 50;
const RETRY_CAP_MS = 2_000;
/** A publisher socket that answers nothing for this long is dead: reconnect. */
const PUBLISHER_SOCKET_TIMEOUT_MS = 5_000;
/** Redis accepts many channels per SUBSCRIBE; chunking keeps each command reasonable. */
const SUBSCRIBE_CHUNK = 1_000;
/** Separates the origin replica id from the payload on the wire: `<origin>\n<payload>`. */
const ORIGIN_SEPARATOR = '\n';

/**
 * The bus on Redis pub/sub. One publisher connection, which never queues while disconnected
 * (it drops and counts), and one dedicated subscriber connection with per-topic SUBSCRIBE,
 * reference counted. Every message is tagged with its origin replica; our own are ignored.
 *
 * The subscriber connection is single-use: whenever it closes, or the canary finds it deaf,
 * it is discarded and a fresh one subscribes to every current topic. Reconnection and
 * deafness recovery therefore share one code path, and `onRecovered` fires at its end.
 */
export function createRedisBus(options: RedisBusOptions): RedisBus {
	const { url, replicaId, canaryIntervalMs = 2_000, canaryTimeoutMs = 3_000 } = options;
	const log = options.log ?? defaultLog;
	if (replicaId.includes(ORIGIN_SEPARATOR) || replicaId.length === 0) {
		throw new Error('replicaId must be non-empty and must not contain a newline');
	}
	const canaryChannel = `canary:${replicaId}`;
	// Distinguishes our canaries from those of an earlier bus with the same replica id.
	const canaryPrefix = `${crypto.randomUUID()}:`;
	const connectionName = `ensemble-bus:${replicaId.replace(/[^\w.:-]/g, '_')}`;

	const topics = new Map<string, Set<{ handler: BusHandler }>>();
	const recoveredListeners = new Set<() => void>();
	const stats: RedisBusStats = {
		published: 0,
		dropped: 0,
		inFlight: 0,
		received: 0,
		malformed: 0,
		recoveries: 0,
		canariesMissed: 0
	};

	let closed = false;
	let subscriber: Redis | undefined;
	/** True once the current subscriber confirmed SUBSCRIBE for every topic. */
	let subscribed = false;
	let subscriberDetail = 'connecting';
	/** Set when messages may have been lost; cleared by firing onRecovered. */
	let missedMessages = false;
	let reopenAttempts = 0;
	let reopenTimer: ReturnType<typeof setTimeout> | undefined;
	let canary: { nonce: string; sentAt: number; timer: ReturnType<typeof setTimeout> } | undefined;
	let canarySeq = 0;
	let lagMs: number | undefined;
	let unhealthySince: number | undefined;

	const publisher = new Redis(url, {
		connectionName: `${connectionName}:pub`,
		enableOfflineQueue: false,
		// 0: a command caught by a disconnect is failed at once, never resent later.
		maxRetriesPerRequest: 0,
		autoResendUnfulfilledCommands: false,
		socketTimeout: PUBLISHER_SOCKET_TIMEOUT_MS,
		retryStrategy: (times) => backoffMs(times)
	} satisfies RedisOptions);
	publisher.on('error', (error: Error) => noteError('publisher', error));
	publisher.on('close', () => noteUnhealthy('publisher disconnected'));
	publisher.on('ready', () => noteMaybeHealthy());

	function openSubscriber(): void {
		reopenTimer = undefined;
		if (closed) return;
		const connection = new Redis(url, {
			connectionName: `${connectionName}:sub`,
			enableOfflineQueue: false,
			maxRetriesPerRequest: 0,
			// We resubscribe ourselves, from our own topic map, on a fresh connection.
			autoResubscribe: false,
			autoResendUnfulfilledCommands: false,
			// Single-use: when it ends we build a new one (see discardSubscriber).
			retryStrategy: () => null
		} satisfies RedisOptions);
		subscriber = connection;
		connection.on('error', (error: Error) => noteError('subscriber', error));
		connection.on('message', (channel: string, message: string) => {
			if (connection === subscriber) receive(channel, message);
		});
		connection.on('ready', () => void subscribeAll(connection));
		connection.on('end', () => {
			if (connection === subscriber) discardSubscriber('subscriber reconnecting');
		});
	}

	async function subscribeAll(connection: Redis): Promise<void> {
		const channels = [canaryChannel, ...topics.keys()];
		try {
			for (let i = 0; i < channels.length; i += SUBSCRIBE_CHUNK) {
				await connection.subscribe(...channels.slice(i, i + SUBSCRIBE_CHUNK));
			}
		} catch (error) {
			if (connection !== subscriber) return;
			noteError('subscriber', error);
			discardSubscriber('subscriber reconnecting');
			return;
		}
		if (connection !== subscriber || closed) return;
		subscribed = true;
		reopenAttempts = 0;
		noteMaybeHealthy();
		if (missedMessages) {
			missedMessages = false;
			stats.recoveries++;
			for (const listener of [...recoveredListeners]) runListener(listener);
		}
	}

	/** Drops the current subscriber (closed, failed or deaf) and schedules a fresh one. */
	function discardSubscriber(reason: string): void {
		const old = subscriber;
		subscriber = undefined;
		subscribed = false;
		subscriberDetail = reason;
		missedMessages = true;
		cancelCanary();
		noteUnhealthy(reason);
		// Its 'error' listener stays attached, so a late error is never unhandled.
		old?.removeAllListeners('message');
		old?.disconnect();
		if (closed || reopenTimer) return;
		reopenTimer = setTimeout(openSubscriber, backoffMs(++reopenAttempts));
		reopenTimer.unref();
	}

	function receive(channel: string, message: string): void {
		if (channel === canaryChannel) {
			if (canary && message === canary.nonce) {
				lagMs = performance.now() - canary.sentAt;
				cancelCanary();
			}
			return;
		}
		const separator = message.indexOf(ORIGIN_SEPARATOR);
		if (separator < 0) {
			stats.malformed++;
			return;
		}
		const origin = message.slice(0, separator);
		if (origin === replicaId) return;
		const entries = topics.get(channel);
		if (!entries) return; // Unsubscribed while the UNSUBSCRIBE was in flight.
		stats.received++;
		const payload = message.slice(separator + 1);
		for (const { handler } of [...entries]) runHandler(handler, channel, payload, origin);
	}

	function sendCanary(): void {
		if (closed || canary || !subscribed || publisher.status !== 'ready') return;
		const nonce = `${canaryPrefix}${++canarySeq}`;
		const timer = setTimeout(() => {
			stats.canariesMissed++;
			log.warn('bus.canary_missed', { replica: replicaId, timeoutMs: canaryTimeoutMs });
			discardSubscriber('subscriber deaf (canary missed), resubscribing');
		}, canaryTimeoutMs);
		timer.unref();
		canary = { nonce, sentAt: performance.now(), timer };
		// A failed PUBLISH says nothing about the subscriber: give up on this canary only.
		publisher.publish(canaryChannel, nonce).catch(() => {
			if (canary?.nonce === nonce) cancelCanary();
		});
	}

	function cancelCanary(): void {
		if (canary) clearTimeout(canary.timer);
		canary = undefined;
	}

	function isHealthy(): boolean {
		return !closed && subscribed && publisher.status === 'ready';
	}

	function noteUnhealthy(reason: string): void {
		if (closed || unhealthySince !== undefined) return;
		unhealthySince = performance.now();
		log.warn('bus.unhealthy', { replica: replicaId, reason });
	}

	function noteMaybeHealthy(): void {
		if (!isHealthy() || unhealthySince === undefined) return;
		const downMs = Math.round(performance.now() - unhealthySince);
		unhealthySince = undefined;
		log.info('bus.healthy', { replica: replicaId, downMs });
	}

	/** Connection errors repeat on every retry during an outage: warn once, then debug. */
	function noteError(role: 'publisher' | 'subscriber', error: unknown): void {
		if (closed) return;
		const fields = { replica: replicaId, role, error: describeError(error) };
		if (unhealthySince === undefined) log.warn('bus.redis_error', fields);
		else log.debug('bus.redis_error', fields);
	}

	/** Sends a (UN)SUBSCRIBE if the subscriber is up; otherwise subscribeAll covers it later. */
	function sendSubscription(command: 'subscribe' | 'unsubscribe', topic: string): void {
		const connection = subscriber;
		if (connection?.status !== 'ready') return;
		connection[command](topic).catch((error: unknown) => {
			// The connection is failing: its 'end' handler rebuilds it with every topic.
			if (connection === subscriber) noteError('subscriber', error);
		});
	}

	const canaryTimer = setInterval(sendCanary, canaryIntervalMs);
	canaryTimer.unref();
	openSubscriber();

	return {
		replicaId,
		subscribe(topic, handler) {
			const entry = { handler };
			let entries = topics.get(topic);
			if (!entries) {
				topics.set(topic, (entries = new Set()));
				sendSubscription('subscribe', topic);
			}
			entries.add(entry);
			return () => {
				if (!entries.delete(entry) || entries.size > 0) return;
				if (topics.get(topic) !== entries) return;
				topics.delete(topic);
				sendSubscription('unsubscribe', topic);
			};
		},
		publish(topic, payload) {
			if (closed || publisher.status !== 'ready' || stats.inFlight >= MAX_IN_FLIGHT) {
				stats.dropped++;
				return;
			}
			stats.inFlight++;
			publisher.publish(topic, `${replicaId}${ORIGIN_SEPARATOR}${payload}`).then(
				() => {
					stats.inFlight--;
					stats.published++;
				},
				() => {
					stats.inFlight--;
					stats.dropped++;
				}
			);
		},
		onRecovered(listener) {
			recoveredListeners.add(listener);
			return () => void recoveredListeners.delete(listener);
		},
		status(): BusStatus {
			let detail: string | undefined;
			if (closed) detail = 'closed';
			else if (!subscribed) detail = subscriberDetail;
			else if (publisher.status !== 'ready') detail = 'publisher reconnecting';
			return { kind: 'redis', healthy: isHealthy(), topics: topics.size, lagMs, detail };
		},
		stats: () => ({ ...stats }),
		async deafenSubscriberForTest() {
			await subscriber?.unsubscribe();
		},
		async close() {
			if (closed) return;
			closed = true;
			clearInterval(canaryTimer);
			clearTimeout(reopenTimer);
			cancelCanary();
			const connection = subscriber;
			subscriber = undefined;
			subscribed = false;
			await Promise.all([quitConnection(publisher), connection && quitConnection(connection)]);
		}
	};
}

/** Exponential backoff with jitter, so replicas do not reconnect in lockstep. */
function backoffMs(attempt: number): number {
	const exponential = Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_CAP_MS);
	return exponential + Math.floor(Math.random() * 100);
}

/** QUIT politely when connected, but never wait on a server that does not answer. */
async function quitConnection(connection: Redis): Promise<void> {
	if (connection.status !== 'ready') {
		connection.disconnect();
		return;
	}
	let timer: ReturnType<typeof setTimeout> | undefined;
	const gaveUp = new Promise<void>((resolve) => {
		timer = setTimeout(resolve, 1_000);
		timer.unref();
	});
	await Promise.race([connection.quit().catch(() => undefined), gaveUp]);
	clearTimeout(timer);
	connection.disconnect();
}
