import { describe, expect, test } from 'bun:test';
import { MAX_FRAME_BYTES, type TelemetrySample } from '../../src/lib/protocol';
import { TelemetryQueue, type TelemetryStep } from '../../src/lib/client/telemetry-queue';

function createQueue(maxQueued?: number) {
	const clock = { now: 0 };
	let nextId = 0;
	const queue = new TelemetryQueue({
		maxQueued,
		createId: () => `gen${++nextId}`,
		now: () => clock.now
	});
	return { queue, clock };
}

function sample(n: number, value: unknown = n) {
	return { id: `s${n}`, kind: 'rating', t: n, value };
}

/** The sample ids a `send` step carries. */
function idsOf(step: TelemetryStep): string[] {
	if (step.kind !== 'send') throw new Error(`expected a send step, got ${step.kind}`);
	const message = JSON.parse(step.frame) as { type: string; samples: TelemetrySample[] };
	expect(message.type).toBe('telemetry');
	expect(step.count).toBe(message.samples.length);
	return message.samples.map((s) => s.id);
}

describe('TelemetryQueue', () => {
	test('an empty queue has nothing to send', () => {
		expect(createQueue().queue.next()).toEqual({ kind: 'idle' });
	});

	test('missing ids are generated; given ones are kept', () => {
		const { queue } = createQueue();
		queue.enqueue([{ kind: 'rating', t: 1, value: 1 }, sample(2)]);
		expect(idsOf(queue.next())).toEqual(['gen1', 's2']);
	});

	test('the queue is bounded, and invalid samples are dropped rather than poisoning a batch', () => {
		const { queue } = createQueue(3);
		const result = queue.enqueue([sample(1), { ...sample(2), kind: 'Not A Name' }, sample(3)]);
		expect(result).toEqual({ queued: 2, dropped: 1 });
		expect(queue.enqueue([sample(4), sample(5)])).toEqual({ queued: 1, dropped: 1 });
		expect(queue.length).toBe(3);
	});

	test('one batch in flight: nothing more is sent until it is answered', () => {
		const { queue } = createQueue();
		queue.enqueue([sample(1), sample(2)]);
		const step = queue.next();
		queue.markSent(idsOf(step).length);
		queue.enqueue([sample(3)]);
		expect(queue.next()).toEqual({ kind: 'idle' });
		expect(queue.answer(undefined)).toBe(true);
		expect(queue.length).toBe(1);
		expect(idsOf(queue.next())).toEqual(['s3']);
	});

	test('an answer with nothing in flight is stale and ignored', () => {
		const { queue } = createQueue();
		queue.enqueue([sample(1)]);
		expect(queue.answer(undefined)).toBe(false);
		expect(queue.length).toBe(1);
	});

	test('retryAfterMs keeps the batch at the head and holds sending until then', () => {
		const { queue, clock } = createQueue();
		queue.enqueue([sample(1)]);
		queue.markSent(1);
		clock.now = 100;
		expect(queue.answer(2000)).toBe(true);
		queue.enqueue([sample(2)]);
		clock.now = 600;
		expect(queue.next()).toEqual({ kind: 'wait', ms: 1500 });
		clock.now = 2100;
		expect(idsOf(queue.next())).toEqual(['s1', 's2']);
	});

	test('a batch lost with its connection is offered again', () => {
		const { queue } = createQueue();
		queue.enqueue([sample(1)]);
		queue.markSent(1);
		queue.forgetInFlight();
		expect(idsOf(queue.next())).toEqual(['s1']);
	});

	test('batches stay within the protocol: at most 500 samples and one frame', () => {
		const { queue } = createQueue(10_000);
		queue.enqueue(Array.from({ length: 1200 }, (_, n) => sample(n)));
		expect(idsOf(queue.next())).toHaveLength(500);

		const big = createQueue().queue;
		const padding = 'x'.repeat(10_000);
		big.enqueue(Array.from({ length: 20 }, (_, n) => sample(n, padding)));
		const step = big.next();
		const count = idsOf(step).length;
		expect(count).toBeGreaterThan(1);
		expect(count).toBeLessThan(20);
		if (step.kind !== 'send') throw new Error('unreachable');
		expect(new TextEncoder().encode(step.frame).length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
		// One more sample would not have fitted.
		expect(step.frame.length + padding.length).toBeGreaterThan(MAX_FRAME_BYTES);
	});
});
