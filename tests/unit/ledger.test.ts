import { describe, expect, test } from 'bun:test';
import type { RoomEvent } from '../../src/lib/protocol';
import { EventLedger, type LedgerOptions } from '../../src/lib/protocol/ledger';

function event(seq: number): RoomEvent {
	return { seq, at: 1000 + seq, actor: 'p1', name: 'chat.sent', payload: { text: `#${seq}` } };
}
function events(...seqs: number[]): RoomEvent[] {
	return seqs.map(event);
}

function createLedger(options: Partial<LedgerOptions> = {}) {
	const delivered: number[] = [];
	const resyncs: { head: number; snapshot: unknown }[] = [];
	const ledger = new EventLedger({
		onEvent: (e) => delivered.push(e.seq),
		onResync: (head, snapshot) => resyncs.push({ head, snapshot }),
		refetchAfterMs: 1000,
		...options
	});
	return { ledger, delivered, resyncs };
}

describe('EventLedger', () => {
	test('delivers events that arrive in order, one at a time or as a run', () => {
		const { ledger, delivered } = createLedger();
		expect(ledger.receive(event(1), 0)).toEqual({ kind: 'none' });
		expect(ledger.receive(events(2, 3, 4), 0)).toEqual({ kind: 'none' });
		expect(delivered).toEqual([1, 2, 3, 4]);
		expect(ledger.lastSeq).toBe(4);
	});

	test('starts after the lastSeq it is given', () => {
		const { ledger, delivered } = createLedger({ lastSeq: 10 });
		ledger.receive(events(9, 10, 11), 0);
		expect(delivered).toEqual([11]);
	});

	test('delivers each event once, however often it arrives', () => {
		const { ledger, delivered } = createLedger();
		ledger.receive(events(1, 1, 2), 0);
		ledger.receive(events(1, 2, 3), 0);
		ledger.receive(event(3), 0);
		expect(delivered).toEqual([1, 2, 3]);
	});

	test('a gap is requested once, filled, and the held events flushed in order', () => {
		const { ledger, delivered } = createLedger();
		ledger.receive(events(1, 2), 0);
		expect(ledger.receive(event(5), 10)).toEqual({ kind: 'fetch', ranges: [{ from: 3, to: 4 }] });
		// More events behind the same gap do not repeat the request.
		expect(ledger.receive(events(7, 6), 20)).toEqual({ kind: 'none' });
		expect(delivered).toEqual([1, 2]);
		expect(ledger.buffered).toBe(3);

		expect(ledger.receive(events(4, 3), 30)).toEqual({ kind: 'none' });
		expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7]);
		expect(ledger.buffered).toBe(0);
		expect(ledger.behind).toBe(false);
	});

	test('several holes are requested as separate ranges; a partial fill asks for nothing new', () => {
		const { ledger } = createLedger();
		expect(ledger.receive(events(3, 6), 0)).toEqual({
			kind: 'fetch',
			ranges: [
				{ from: 1, to: 2 },
				{ from: 4, to: 5 }
			]
		});
		expect(ledger.receive(event(1), 0)).toEqual({ kind: 'none' });
		expect(ledger.receive(event(9), 0)).toEqual({ kind: 'fetch', ranges: [{ from: 7, to: 8 }] });
	});

	test('an unanswered request is repeated after the timeout, not before', () => {
		const { ledger } = createLedger();
		ledger.receive(event(3), 100);
		expect(ledger.nextPollAt()).toBe(1100);
		expect(ledger.poll(1099)).toEqual({ kind: 'none' });
		expect(ledger.poll(1100)).toEqual({ kind: 'fetch', ranges: [{ from: 1, to: 2 }] });
		// Half an answer: only what is still missing is asked for next time.
		ledger.receive(event(1), 1200);
		expect(ledger.poll(2100)).toEqual({ kind: 'fetch', ranges: [{ from: 2, to: 2 }] });
	});

	test('a replay announced by joined is fetched only if it does not arrive in time', () => {
		const { ledger, delivered } = createLedger({ lastSeq: 2 });
		ledger.expect(6, 0);
		expect(ledger.receive(events(3, 4), 10)).toEqual({ kind: 'none' });
		expect(ledger.poll(999)).toEqual({ kind: 'none' });
		expect(ledger.poll(1000)).toEqual({ kind: 'fetch', ranges: [{ from: 5, to: 6 }] });
		ledger.receive(events(5, 6), 1010);
		expect(delivered).toEqual([3, 4, 5, 6]);
		expect(ledger.nextPollAt()).toBeUndefined();
	});

	test('after a reconnect, forgotten requests are asked for again', () => {
		const { ledger } = createLedger();
		ledger.receive(event(4), 0);
		ledger.forgetRequests();
		expect(ledger.receive(event(5), 1)).toEqual({ kind: 'fetch', ranges: [{ from: 1, to: 3 }] });
	});

	test('resync restarts from the snapshot and keeps held events that continue it', () => {
		const { ledger, delivered, resyncs } = createLedger();
		ledger.receive(events(1, 4, 12, 13), 0);
		ledger.resync(11, { state: 'at 11' });
		expect(resyncs).toEqual([{ head: 11, snapshot: { state: 'at 11' } }]);
		expect(delivered).toEqual([1, 12, 13]);
		expect(ledger.lastSeq).toBe(13);
		// Anything at or before the snapshot is old news.
		ledger.receive(events(4, 11), 0);
		expect(delivered).toEqual([1, 12, 13]);
	});

	test('the buffer is bounded: an event too far ahead asks for a resync instead', () => {
		const { ledger, delivered } = createLedger({ maxBuffered: 5 });
		expect(ledger.receive(event(5), 0).kind).toBe('fetch');
		expect(ledger.receive(event(6), 0)).toEqual({ kind: 'resync' });
		expect(ledger.buffered).toBe(1);
		// Once the gap closes, the window moves with lastSeq.
		ledger.receive(events(1, 2, 3, 4), 0);
		expect(ledger.receive(event(10), 0).kind).toBe('fetch');
		expect(delivered).toEqual([1, 2, 3, 4, 5]);
	});

	test('a throwing callback does not cause a second delivery', () => {
		let calls = 0;
		const ledger = new EventLedger({
			onEvent: () => {
				calls++;
				throw new Error('subscriber bug');
			}
		});
		expect(() => ledger.receive(event(1), 0)).toThrow('subscriber bug');
		ledger.receive(event(1), 0);
		expect(calls).toBe(1);
		expect(ledger.lastSeq).toBe(1);
	});
});
