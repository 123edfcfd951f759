import { describe, expect, test } from 'bun:test';
import { CommandQueue } from '../../src/lib/client/command-queue';
import { CommandError } from '../../src/lib/client/errors';

/** A transmit function that records frames, refusing once `capacity` frames went out. */
function wire(capacity = Infinity) {
	const sent: string[] = [];
	const transmit = (frame: string) => {
		if (sent.length >= capacity) return false;
		sent.push(frame);
		return true;
	};
	return { sent, transmit };
}

describe('CommandQueue', () => {
	test('nothing goes out until pumped; then everything, in send order', () => {
		const queue = new CommandQueue();
		void queue.add('a', 'A');
		void queue.add('b', 'B');
		expect(queue.size).toBe(2);
		const { sent, transmit } = wire();
		queue.pump(1, transmit);
		expect(sent).toEqual(['A', 'B']);
	});

	test('a command is sent once per connection, and again on the next one', () => {
		const queue = new CommandQueue();
		void queue.add('a', 'A');
		const { sent, transmit } = wire();
		queue.pump(1, transmit);
		queue.pump(1, transmit);
		expect(sent).toEqual(['A']);
		queue.pump(2, transmit);
		expect(sent).toEqual(['A', 'A']);
	});

	test('at most maxInFlight are on the wire; settling one lets the next out', async () => {
		const queue = new CommandQueue(2);
		const first = queue.add('a', 'A');
		void queue.add('b', 'B');
		void queue.add('c', 'C');
		const { sent, transmit } = wire();
		queue.pump(1, transmit);
		expect(sent).toEqual(['A', 'B']);
		expect(queue.settle('a', { seq: 7 })).toBe(true);
		queue.pump(1, transmit);
		expect(sent).toEqual(['A', 'B', 'C']);
		expect(await first).toEqual({ seq: 7 });
	});

	test('a refused frame stops the pump, so no later command overtakes it', () => {
		const queue = new CommandQueue();
		void queue.add('a', 'A');
		void queue.add('b', 'B');
		void queue.add('c', 'C');
		const refusing = wire(1);
		queue.pump(1, refusing.transmit);
		expect(refusing.sent).toEqual(['A']);
		// B and C were never carried by connection 1: a later pump on it sends them, in order.
		const { sent, transmit } = wire();
		queue.pump(1, transmit);
		expect(sent).toEqual(['B', 'C']);
	});

	test('a command settles once: a second answer for it is ignored', async () => {
		const queue = new CommandQueue();
		const settled = queue.add('a', 'A');
		expect(queue.settle('a', { seq: 3 })).toBe(true);
		expect(queue.settle('a', new CommandError('a', 'server', 'forbidden', 'no'))).toBe(false);
		expect(queue.settle('unknown', { seq: 4 })).toBe(false);
		expect(await settled).toEqual({ seq: 3 });
		expect(queue.size).toBe(0);
	});

	test('a rejection rejects with the given error', async () => {
		const queue = new CommandQueue();
		const settled = queue.add('a', 'A');
		queue.settle('a', new CommandError('a', 'server', 'forbidden', 'Not yours.'));
		await expect(settled).rejects.toMatchObject({ source: 'server', reason: 'forbidden' });
	});

	test('rejectAll rejects every queued command and empties the queue', async () => {
		const queue = new CommandQueue();
		const results = ['a', 'b'].map((id) => queue.add(id, id.toUpperCase()));
		queue.rejectAll((id) => new CommandError(id, 'client', 'client_closed', 'closed'));
		expect(queue.size).toBe(0);
		const errors = await Promise.all(results.map((result) => result.catch((e: unknown) => e)));
		expect(errors.map((e) => (e as CommandError).id)).toEqual(['a', 'b']);
	});
});
