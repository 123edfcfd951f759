import {
	afterAll,
	afterEach,
	beforeAll,
	describe,
	expect,
	setDefaultTimeout,
	test
} from 'bun:test';
import { Redis } from 'ioredis';
import { createRedisBus, type RedisBus } from '../../src/lib/server/realtime/bus';
import {
	findRedisServer,
	startPrivateRedis,
	waitUntil as waitFor,
	type PrivateRedis
} from '../support/redis';
import { requireService } from '../support/services';

// Reconnection backoff and private redis-server restarts take seconds on a small machine.
setDefaultTimeout(30_000);

const shared = requireService('TEST_REDIS_URL', 'Redis bus integration');
const redisServerPath = findRedisServer();

/** Topic names and replica ids are unique per run, so parallel runs on one Redis never meet. */
const run = crypto.randomUUID().slice(0, 8);
const topic = (name: string) => `test-bus:${run}:${name}`;
const replica = (name: string) => `${name}-${run}`;

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
	while (cleanups.length) await cleanups.pop()!();
});

// A bus must never leave a rejection or an 'error' event unhandled, whatever Redis does.
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);
cleanups.push(() => process.off('unhandledRejection', onUnhandled));
const originalConsoleError = console.error;
console.error = (...args: unknown[]) => {
	if (String(args[0]).includes('Unhandled error event')) unhandled.push(args.join(' '));
	originalConsoleError(...args);
};
cleanups.push(() => (console.error = originalConsoleError));

/** Buses live for one test; closing them also checks that close() itself is clean. */
const buses: RedisBus[] = [];
afterEach(async () => {
	await Promise.all(buses.splice(0).map((bus) => bus.close()));
	expect(unhandled).toEqual([]);
});

describe.skipIf(!shared.available)('Redis bus on the shared server', () => {
	const url = shared.available ? shared.url : '';
	let admin: Redis;
	beforeAll(() => {
		admin = quietClient(url);
		cleanups.push(() => admin.disconnect());
	});

	test('two replicas hear each other in order, never themselves', async () => {
		const a = openBus({ url, replicaId: replica('a') });
		const b = openBus({ url, replicaId: replica('b') });
		const room = topic('order');
		const atA = record();
		const atB = record();
		a.subscribe(room, atA.handler);
		b.subscribe(room, atB.handler);
		await waitFor(() => subscribers(admin, room).then((n) => n === 2), 'both subscribed');

		for (let i = 0; i < 5; i++) a.publish(room, `a${i}`);
		for (let i = 0; i < 5; i++) b.publish(room, `b${i}`);
		await waitFor(() => atA.seen.length === 5 && atB.seen.length === 5, 'all delivered');

		expect(atB.seen).toEqual(
			['a0', 'a1', 'a2', 'a3', 'a4'].map((p) => ({ payload: p, origin: a.replicaId }))
		);
		expect(atA.seen).toEqual(
			['b0', 'b1', 'b2', 'b3', 'b4'].map((p) => ({ payload: p, origin: b.replicaId }))
		);
		// Acknowledgements come back on the publisher connection, possibly after delivery.
		await waitFor(() => a.stats().inFlight === 0, 'publishes acknowledged');
		expect(a.stats()).toMatchObject({ published: 5, dropped: 0 });
	});

	test('subscriptions are reference counted down to UNSUBSCRIBE', async () => {
		const a = openBus({ url, replicaId: replica('a') });
		const b = openBus({ url, replicaId: replica('b') });
		const room = topic('refcount');
		const marker = topic('refcount-marker');
		const first = record();
		const second = record();
		const markers = record();
		b.subscribe(marker, markers.handler);
		const removeFirst = b.subscribe(room, first.handler);
		const removeSecond = b.subscribe(room, second.handler);
		await waitFor(() => subscribers(admin, room).then((n) => n === 1), 'one SUBSCRIBE');
		expect(b.status().topics).toBe(2);

		removeFirst();
		a.publish(room, 'to second only');
		await waitFor(() => second.seen.length === 1, 'second hears');
		expect(first.seen).toHaveLength(0);
		expect(await subscribers(admin, room)).toBe(1);

		removeSecond();
		await waitFor(() => subscribers(admin, room).then((n) => n === 0), 'UNSUBSCRIBE sent');
		expect(b.status().topics).toBe(1);
		// Redis keeps order on one connection: once the marker arrives, the room message would have.
		a.publish(room, 'nobody listens');
		a.publish(marker, 'done');
		await waitFor(() => markers.seen.length === 1, 'marker arrives');
		expect(second.seen).toHaveLength(1);
	});

	test('a burst of 1000 messages arrives complete and in order', async () => {
		const a = openBus({ url, replicaId: replica('a') });
		const b = openBus({ url, replicaId: replica('b') });
		const room = topic('burst');
		const atB = record();
		b.subscribe(room, atB.handler);
		await waitFor(() => subscribers(admin, room).then((n) => n === 1), 'subscribed');

		const started = performance.now();
		for (let i = 0; i < 1000; i++) a.publish(room, String(i));
		await waitFor(() => atB.seen.length === 1000, '1000 delivered');
		console.log(`burst of 1000 delivered in ${Math.round(performance.now() - started)} ms`);
		expect(atB.seen.map((m) => Number(m.payload))).toEqual([...Array(1000).keys()]);
		await waitFor(() => a.stats().inFlight === 0, 'publishes acknowledged');
		expect(a.stats()).toMatchObject({ published: 1000, dropped: 0 });
	});

	test('status reports health, topics and the canary round trip', async () => {
		const a = openBus({ url, replicaId: replica('a'), canaryIntervalMs: 50 });
		a.subscribe(topic('status'), () => {});
		await waitFor(() => a.status().lagMs !== undefined, 'canary measured');
		expect(a.status()).toMatchObject({ kind: 'redis', healthy: true, topics: 1 });
		expect(a.status().lagMs).toBeLessThan(1_000);
		await a.close();
		expect(a.status()).toMatchObject({ healthy: false, detail: 'closed' });
	});

	test('a silently deaf subscriber is found by the canary and resubscribed', async () => {
		const canaryIntervalMs = 200;
		const canaryTimeoutMs = 300;
		const a = openBus({ url, replicaId: replica('a') });
		const b = openBus({ url, replicaId: replica('b'), canaryIntervalMs, canaryTimeoutMs });
		const room = topic('deaf');
		const atB = record();
		b.subscribe(room, atB.handler);
		let recoveries = 0;
		b.onRecovered(() => recoveries++);
		await waitFor(() => b.status().lagMs !== undefined, 'canary measured');

		await b.deafenSubscriberForTest();
		const deafAt = performance.now();
		a.publish(room, 'lost while deaf');
		await waitFor(() => b.stats().canariesMissed === 1, 'deafness detected');
		const detectedMs = performance.now() - deafAt;
		await waitFor(() => recoveries === 1, 'recovered');
		const recoveredMs = performance.now() - deafAt;
		console.log(
			`deaf subscriber detected after ${Math.round(detectedMs)} ms, recovered after ${Math.round(recoveredMs)} ms`
		);
		// The next canary leaves within one interval and is missed after the timeout; the
		// margin absorbs timer drift on a loaded machine. Recovery adds one fresh connection.
		expect(detectedMs).toBeLessThan(canaryIntervalMs + canaryTimeoutMs + 300);
		expect(recoveredMs - detectedMs).toBeLessThan(1_000);
		expect(b.stats().canariesMissed).toBe(1);
		expect(b.status().healthy).toBe(true);
		expect(atB.seen).toHaveLength(0);

		a.publish(room, 'heard again');
		await waitFor(() => atB.seen.length === 1, 'delivered after recovery');
		expect(atB.seen[0]!.payload).toBe('heard again');
	});
});

describe.skipIf(!redisServerPath)('Redis bus across a redis-server restart', () => {
	let server: PrivateRedis;
	beforeAll(async () => {
		server = await startPrivateRedis(redisServerPath!);
		cleanups.push(() => server.remove());
	});

	test('survives a SIGKILL mid-stream, drops instead of queueing, and recovers', async () => {
		const options = { url: server.url, canaryIntervalMs: 200, canaryTimeoutMs: 500 };
		const a = openBus({ ...options, replicaId: replica('a') });
		const b = openBus({ ...options, replicaId: replica('b') });
		const room = topic('restart');
		const atB = record();
		b.subscribe(room, atB.handler);
		let recoveries = 0;
		b.onRecovered(() => recoveries++);
		await waitFor(() => a.status().healthy && b.status().healthy, 'healthy');

		let seq = 0;
		const stream = setInterval(() => a.publish(room, String(seq++)), 5);
		cleanups.push(() => clearInterval(stream));
		await waitFor(() => atB.seen.length >= 20, 'stream flowing');

		await server.kill();
		await waitFor(() => !a.status().healthy && !b.status().healthy, 'both unhealthy');
		clearInterval(stream);
		expect(b.status().detail).toBe('subscriber reconnecting');

		const before = a.stats();
		for (let i = 0; i < 10_000; i++) a.publish(room, `while down ${i}`);
		// Most are dropped at once; if a's publisher has not yet seen its socket close (a busy
		// machine), ioredis rejects the rest without queueing them. Either way none is kept.
		// (Stream publishes in flight at the kill may be counted as dropped too, hence `>=`.)
		await waitFor(
			() => a.stats().dropped - before.dropped >= 10_000 && a.stats().inFlight === 0,
			'all 10,000 dropped, none in flight'
		);

		await server.start();
		await waitFor(() => a.status().healthy && b.status().healthy, 'healthy again', 10_000);
		expect(recoveries).toBe(1);
		expect(b.status().topics).toBe(1);

		const received = atB.seen.map((m) => Number(m.payload));
		expect(received.every((n, i) => i === 0 || n > received[i - 1]!)).toBe(true);
		a.publish(room, 'after restart');
		await waitFor(() => atB.seen.at(-1)?.payload === 'after restart', 'flows again');
		// Nothing published while Redis was down was queued and delivered later.
		expect(atB.seen.filter((m) => m.payload.startsWith('while down'))).toEqual([]);
	});

	test('a stalled server (socket open, no replies) caps publishes in flight', async () => {
		const a = openBus({ url: server.url, replicaId: replica('a') });
		await waitFor(() => a.status().healthy, 'healthy');
		server.signal('SIGSTOP');
		try {
			for (let i = 0; i < 25_000; i++) a.publish(topic('stall'), String(i));
			// The cap, not the server, bounds what is held in memory.
			expect(a.stats().inFlight).toBe(10_000);
			expect(a.stats().dropped).toBe(15_000);
		} finally {
			server.signal('SIGCONT');
		}
		await waitFor(() => a.stats().inFlight === 0, 'acknowledged after the stall');
		expect(a.stats().published).toBe(10_000);
	});

	test('a subscriber connection killed by the server is rebuilt with every topic', async () => {
		const a = openBus({ url: server.url, replicaId: replica('a') });
		const b = openBus({ url: server.url, replicaId: replica('b') });
		const rooms = [topic('kill-1'), topic('kill-2')];
		const atB = record();
		for (const room of rooms) b.subscribe(room, atB.handler);
		let recoveries = 0;
		b.onRecovered(() => recoveries++);
		await waitFor(() => b.status().healthy, 'healthy');

		const admin = quietClient(server.url);
		cleanups.push(() => admin.disconnect());
		const killed = await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
		expect(Number(killed)).toBeGreaterThanOrEqual(1);
		await waitFor(() => recoveries === 1, 'recovered');
		for (const room of rooms) a.publish(room, room);
		await waitFor(() => atB.seen.length === 2, 'both topics resubscribed');
	});

	test('a bus started while Redis is down waits, then catches up', async () => {
		await server.kill();
		const a = openBus({ url: server.url, replicaId: replica('a') });
		const b = openBus({ url: server.url, replicaId: replica('b') });
		const room = topic('late');
		const atB = record();
		b.subscribe(room, atB.handler);
		let recoveries = 0;
		b.onRecovered(() => recoveries++);
		a.publish(room, 'dropped');
		expect(a.stats().dropped).toBe(1);
		await waitFor(() => b.status().detail === 'subscriber reconnecting', 'first attempt failed');
		expect(b.status()).toMatchObject({ healthy: false, topics: 1 });

		await server.start();
		await waitFor(() => a.status().healthy && b.status().healthy, 'healthy', 10_000);
		// Topics were subscribed before Redis came up: messages may have been missed.
		expect(recoveries).toBe(1);
		a.publish(room, 'first real message');
		await waitFor(() => atB.seen.length === 1, 'delivered');
	});
});

function openBus(options: Parameters<typeof createRedisBus>[0]): RedisBus {
	const bus = createRedisBus(options);
	buses.push(bus);
	return bus;
}

function record() {
	const seen: Array<{ payload: string; origin: string }> = [];
	return {
		seen,
		handler: (payload: string, origin: string) => void seen.push({ payload, origin })
	};
}

/** An admin connection that fails fast instead of queueing. */
function quietClient(url: string): Redis {
	const client = new Redis(url, { maxRetriesPerRequest: 1 });
	client.on('error', () => {});
	return client;
}

async function subscribers(admin: Redis, channel: string): Promise<number> {
	const reply = (await admin.pubsub('NUMSUB', channel)) as [string, number];
	return Number(reply[1]);
}
