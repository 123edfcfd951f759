/**
 * The well-behaved participant of `bench/abuse.ts`, in its own worker thread so the abuser's
 * load on the bench's event loop does not count as server latency: one joined socket, a ping
 * every 100 ms, round trips recorded under the phase the bench last announced.
 *
 * Messages in: `{ start: { url, origin, cookie } }`, `{ phase }`, `{ stop: true }`.
 * Messages out: `{ ready: true }`, then on stop `{ rtts: Record<phase, number[]>, closed }`.
 */
import { PROTOCOL_VERSION } from '../../src/lib/protocol';

declare const self: Worker;

let phase = 'baseline';
const rtts: Record<string, number[]> = {};
const sentAt = new Map<number, { at: number; phase: string }>();
let socket: WebSocket | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
let closed: number | null = null;

self.onmessage = (event: MessageEvent) => {
	const message = event.data as
		{ start: { url: string; origin: string; cookie: string } } | { phase: string } | { stop: true };
	if ('start' in message) {
		const { url, origin, cookie } = message.start;
		socket = new WebSocket(url, { headers: { origin, cookie } } as unknown as string[]);
		socket.addEventListener('open', () =>
			socket!.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }))
		);
		socket.addEventListener('close', (close) => (closed = close.code));
		socket.addEventListener('message', (frame) => {
			const data = JSON.parse(String(frame.data)) as { type: string; id?: number };
			if (data.type === 'joined') {
				self.postMessage({ ready: true });
				let id = 0;
				timer = setInterval(() => {
					if (socket?.readyState !== WebSocket.OPEN) return;
					sentAt.set(++id, { at: performance.now(), phase });
					socket.send(JSON.stringify({ type: 'ping', id, t0: Date.now() }));
				}, 100);
			}
			if (data.type !== 'pong') return;
			const sent = sentAt.get(data.id!);
			if (!sent) return;
			sentAt.delete(data.id!);
			(rtts[sent.phase] ??= []).push(performance.now() - sent.at);
		});
	} else if ('phase' in message) {
		phase = message.phase;
	} else {
		clearInterval(timer);
		socket?.close();
		self.postMessage({ rtts, closed });
	}
};
