import { describe, expect, spyOn, test } from 'bun:test';
import { createBus, createLocalNetwork } from '../../src/lib/server/realtime/bus';

/** Local delivery happens on a microtask; one macrotask later everything has arrived. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function record() {
	const seen: Array<{ payload: string; origin: string }> = [];
	return { seen, handler: (payload: string, origin: string) => seen.push({ payload, origin }) };
}

describe('local bus network', () => {
	test('buses of one network hear each other, in order, with the origin replica', async () => {
		const network = createLocalNetwork();
		const a = network.createBus('a');
		const b = network.createBus('b');
		const c = network.createBus('c');
		const atB = record();
		const atC = record();
		b.subscribe('room:1', atB.handler);
		c.subscribe('room:1', atC.handler);

		a.publish('room:1', 'one');
		a.publish('room:1', 'two');
		b.publish('room:1', 'three');
		await settle();

		expect(atB.seen).toEqual([
			{ payload: 'one', origin: 'a' },
			{ payload: 'two', origin: 'a' }
		]);
		expect(atC.seen.map((m) => m.payload)).toEqual(['one', 'two', 'three']);
	});

	test('delivery is never synchronous inside publish()', async () => {
		const network = createLocalNetwork();
		const a = network.createBus('a');
		const b = network.createBus('b');
		const atB = record();
		b.subscribe('room:1', atB.handler);
		a.publish('room:1', 'x');
		expect(atB.seen).toHaveLength(0);
		await Promise.resolve();
		expect(atB.seen).toHaveLength(1);
	});

	test('a publisher never hears its own message', async () => {
		const network = createLocalNetwork();
		const a = network.createBus('a');
		network.createBus('b');
		const atA = record();
		a.subscribe('room:1', atA.handler);
		a.publish('room:1', 'mine');
		await settle();
		expect(atA.seen).toHaveLength(0);
	});

	test('a lone bus (the embedded default) reaches nobody and is healthy', async () => {
		const bus = createBus({ replicaId: 'solo' });
		const heard = record();
		bus.subscribe('room:1', heard.handler);
		bus.publish('room:1', 'hello?');
		await settle();
		expect(heard.seen).toHaveLength(0);
		expect(bus.status()).toEqual({ kind: 'local', healthy: true, topics: 1, detail: undefined });
		await bus.close();
	});

	test('subscriptions are reference counted, one count per subscribe call', async () => {
		const network = createLocalNetwork();
		const a = network.createBus('a');
		const b = network.createBus('b');
		const first = record();
		const second = record();
		const removeFirst = b.subscribe('room:1', first.handler);
		const removeSecond = b.subscribe('room:1', second.handler);
		const removeAgain = b.subscribe('room:1', second.handler);
		expect(b.status().topics).toBe(1);

		removeFirst();
		removeFirst(); // Idempotent: must not remove another handler's count.
		a.publish('room:1', 'after first left');
		await settle();
		expect(first.seen).toHaveLength(0);
		expect(second.seen).toHaveLength(2);

		removeSecond();
		expect(b.status().topics).toBe(1);
		removeAgain();
		expect(b.status().topics).toBe(0);
		a.publish('room:1', 'nobody listens');
		await settle();
		expect(second.seen).toHaveLength(2);
	});

	test('a throwing handler does not stop delivery to the others', async () => {
		const network = createLocalNetwork();
		const a = network.createBus('a');
		const b = network.createBus('b');
		const heard = record();
		const errors = spyOn(console, 'error').mockImplementation(() => {});
		b.subscribe('room:1', () => {
			throw new Error('handler bug');
		});
		b.subscribe('room:1', heard.handler);
		a.publish('room:1', 'x');
		await settle();
		const logged = errors.mock.calls.map((call) => String(call[0]));
		errors.mockRestore();
		expect(heard.seen).toHaveLength(1);
		expect(logged.join('\n')).toContain('bus.handler_failed');
	});

	test('a partitioned bus neither sends nor receives, and recovers on heal', async () => {
		const network = createLocalNetwork();
		const a = network.createBus('a');
		const b = network.createBus('b');
		const atA = record();
		const atB = record();
		a.subscribe('room:1', atA.handler);
		b.subscribe('room:1', atB.handler);
		let recoveries = 0;
		b.onRecovered(() => recoveries++);

		network.partition('b', true);
		expect(b.status()).toMatchObject({ healthy: false, detail: 'partitioned' });
		a.publish('room:1', 'lost on the way in');
		b.publish('room:1', 'lost on the way out');
		await settle();
		expect(atA.seen).toHaveLength(0);
		expect(atB.seen).toHaveLength(0);
		expect(recoveries).toBe(0);

		network.partition('b', false);
		await settle();
		expect(recoveries).toBe(1);
		expect(b.status().healthy).toBe(true);

		a.publish('room:1', 'flows again');
		b.publish('room:1', 'both ways');
		await settle();
		expect(atB.seen.map((m) => m.payload)).toEqual(['flows again']);
		expect(atA.seen.map((m) => m.payload)).toEqual(['both ways']);
	});

	test('a closed bus leaves the network and its replica id can be reused', async () => {
		const network = createLocalNetwork();
		const a = network.createBus('a');
		const b = network.createBus('b');
		expect(() => network.createBus('b')).toThrow('already exists');
		const atB = record();
		b.subscribe('room:1', atB.handler);
		await b.close();
		a.publish('room:1', 'x');
		await settle();
		expect(atB.seen).toHaveLength(0);
		expect(b.status()).toMatchObject({ healthy: false, detail: 'closed' });
		expect(network.createBus('b').replicaId).toBe('b');
	});
});
