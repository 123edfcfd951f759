/**
 * The host-led baseline for `bun run bench:sync`, built the way HyperStudy synchronizes video:
 * one page is the host and plays freely, reporting `{mediaTime, at}` every 250 ms (`at` on its
 * estimate of the server clock); the others chase it with a Kalman-smoothed estimate of the
 * host's position, a PID controller on `playbackRate`, a seek beyond 0.6 s and a 50 ms dead
 * band. It runs in pages of its own (a bare `<video>` of the same clip), served with a relay by
 * this process, and every byte crosses the same latency proxy as the app's traffic does.
 */
import type { Server, ServerWebSocket } from 'bun';

/** The viewers' tuning, HyperStudy's published defaults where it has them (see the doc). */
export type HostLedOptions = {
	role: 'host' | 'viewer';
	reportIntervalMs: number;
	controlIntervalMs: number;
	seekThresholdS: number;
	deadBandS: number;
	/** PID gains on the error (s) → rate offset. */
	kp: number;
	ki: number;
	kd: number;
	/** The rate stays within 1 ± this. */
	rateBand: number;
	/** Kalman filter on the host's position: process noise (s² per s) and report noise (s²). */
	processNoise: number;
	measurementNoise: number;
};

export const HOST_LED_DEFAULTS: Omit<HostLedOptions, 'role'> = {
	reportIntervalMs: 250,
	controlIntervalMs: 100,
	seekThresholdS: 0.6,
	deadBandS: 0.05,
	kp: 0.5,
	ki: 0.1,
	kd: 0.05,
	rateBand: 0.1,
	processNoise: 1e-5,
	measurementNoise: 1e-4
};

/** What a host-led page exposes for the bench to read back. */
export type HostLedState = { seeks: number; offsets: [atPageMs: number, offsetMs: number][] };

type RelayData = { role: 'host' | 'viewer' };

const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8" />
<title>Host-led baseline</title>
<button type="button">Start</button>
<video src="/clip.webm" preload="auto" playsinline></video>
</html>`;

/** The bench's web server for the baseline: the page, the clip (with Range), the relay socket. */
export class HostLedRelay {
	readonly #server: Server<RelayData>;
	readonly #clip: ReturnType<typeof Bun.file>;
	#host: ServerWebSocket<RelayData> | undefined;
	#ready = 0;

	constructor(clipPath: string) {
		this.#clip = Bun.file(clipPath);
		this.#server = Bun.serve<RelayData>({
			hostname: '127.0.0.1',
			port: 0,
			fetch: (request, server) => this.#fetch(request, server),
			websocket: {
				open: (socket) => {
					socket.subscribe('viewers');
					if (socket.data.role === 'host') this.#host = socket;
				},
				message: (socket, message) => this.#receive(socket, String(message))
			}
		});
	}

	get port(): number {
		return this.#server.port as number;
	}

	/** Pages that have reported the clip buffered since the last reset. */
	get ready(): number {
		return this.#ready;
	}

	reset(): void {
		this.#ready = 0;
		this.#host = undefined;
	}

	/** A control for the host page (play, or seek as the host would). */
	commandHost(command: { action: 'play' } | { action: 'seek'; mediaTime: number }): void {
		if (!this.#host) throw new Error('no host page is connected');
		this.#host.send(JSON.stringify({ type: 'command', ...command }));
	}

	close(): void {
		void this.#server.stop(true);
	}

	#fetch(request: Request, server: Server<RelayData>): Response | undefined {
		const url = new URL(request.url);
		if (url.pathname === '/relay') {
			const role = url.searchParams.get('role') === 'host' ? 'host' : 'viewer';
			if (server.upgrade(request, { data: { role } })) return undefined;
			return new Response('upgrade failed', { status: 400 });
		}
		if (url.pathname === '/watch') {
			return new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } });
		}
		if (url.pathname === '/clip.webm') return this.#serveClip(request.headers.get('range'));
		return new Response('not found', { status: 404 });
	}

	/** The clip, honouring a single `bytes=a-b` range (the player seeks with them). */
	#serveClip(range: string | null): Response {
		const size = this.#clip.size;
		const headers = { 'content-type': 'video/webm', 'accept-ranges': 'bytes' };
		const match = range && /^bytes=(\d*)-(\d*)$/.exec(range);
		if (!match) return new Response(this.#clip, { headers });
		const start = match[1] ? Number(match[1]) : Math.max(0, size - Number(match[2]));
		const end = match[1] && match[2] ? Math.min(size - 1, Number(match[2])) : size - 1;
		if (start >= size || end < start) {
			return new Response(null, { status: 416, headers: { 'content-range': `bytes */${size}` } });
		}
		return new Response(this.#clip.slice(start, end + 1), {
			status: 206,
			headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}` }
		});
	}

	#receive(socket: ServerWebSocket<RelayData>, text: string): void {
		const receivedAt = performance.timeOrigin + performance.now();
		const message = JSON.parse(text) as { type: string; id?: number; t0?: number };
		if (message.type === 'ping') {
			const t2 = performance.timeOrigin + performance.now();
			socket.send(
				JSON.stringify({ type: 'pong', id: message.id, t0: message.t0, t1: receivedAt, t2 })
			);
		} else if (message.type === 'ready') {
			this.#ready++;
		} else if (message.type === 'report' && socket.data.role === 'host') {
			// Relayed as is: the viewers judge it by the `at` the host stamped.
			socket.publish('viewers', text);
		}
	}
}

/**
 * Runs in a baseline page (stringified by Playwright: self-contained). Connects to the relay
 * through the page's own origin (the proxy), keeps a clock offset to the relay (NTP-style
 * pings, the quickest of the last 16 wins), and then either hosts or chases.
 */
export function runHostLedPage(options: HostLedOptions): void {
	const video = document.querySelector('video') as HTMLVideoElement;
	const state: HostLedState = { seeks: 0, offsets: [] };
	(window as unknown as { __hostLed: HostLedState }).__hostLed = state;
	const clientNow = () => performance.timeOrigin + performance.now();
	const socket = new WebSocket(`ws://${location.host}/relay?role=${options.role}`);
	const send = (message: unknown) => {
		if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
	};

	// Clock: a burst of 8 pings 75 ms apart, then one a second.
	const samples: { roundTrip: number; offset: number }[] = [];
	let offset: number | undefined;
	let pings = 0;
	const ping = () => {
		send({ type: 'ping', id: ++pings, t0: clientNow() });
		setTimeout(ping, pings < 8 ? 75 : 1_000);
	};
	const serverNow = () => (offset === undefined ? undefined : clientNow() + offset);

	// The host's position as a line of slope 1 through server time: position − serverTime/1000.
	let estimate: { x: number; p: number; at: number } | undefined;
	let hostPlaying = false;
	const updateEstimate = (mediaTime: number, at: number) => {
		const measured = mediaTime - at / 1000;
		if (!estimate || Math.abs(measured - estimate.x) > 1) {
			// A jump (the host seeked): start over from the report.
			estimate = { x: measured, p: options.measurementNoise, at };
			return;
		}
		const p = estimate.p + options.processNoise * Math.max(0, (at - estimate.at) / 1000);
		const gain = p / (p + options.measurementNoise);
		estimate = { x: estimate.x + gain * (measured - estimate.x), p: (1 - gain) * p, at };
	};

	let integral = 0;
	let lastError: number | undefined;
	const control = () => {
		const now = serverNow();
		if (!hostPlaying && !video.paused) video.pause();
		if (!estimate || now === undefined || !hostPlaying || video.seeking) return;
		if (video.paused) void video.play();
		const error = estimate.x + now / 1000 - video.currentTime;
		const dt = options.controlIntervalMs / 1000;
		let rate = 1;
		if (Math.abs(error) > options.seekThresholdS) {
			video.currentTime = estimate.x + now / 1000;
			state.seeks++;
			integral = 0;
			lastError = undefined;
		} else if (Math.abs(error) < options.deadBandS) {
			integral = 0;
			lastError = error;
		} else {
			integral += error * dt;
			const derivative = lastError === undefined ? 0 : (error - lastError) / dt;
			lastError = error;
			const correction = options.kp * error + options.ki * integral + options.kd * derivative;
			rate = 1 + Math.max(-options.rateBand, Math.min(options.rateBand, correction));
		}
		if (Math.abs(video.playbackRate - rate) > 1e-6) video.playbackRate = rate;
	};

	const report = () => {
		const at = serverNow();
		if (at !== undefined) {
			send({ type: 'report', mediaTime: video.currentTime, at, playing: !video.paused });
		}
	};

	socket.addEventListener('open', () => {
		ping();
		const ready = () => send({ type: 'ready' });
		if (video.readyState >= 4) ready();
		else video.addEventListener('canplaythrough', ready, { once: true });
		if (options.role === 'viewer') setInterval(control, options.controlIntervalMs);
		else setInterval(report, options.reportIntervalMs);
	});
	socket.addEventListener('message', (event) => {
		const message = JSON.parse(String(event.data));
		if (message.type === 'pong') {
			const t3 = clientNow();
			const roundTrip = t3 - message.t0 - (message.t2 - message.t1);
			samples.push({ roundTrip, offset: (message.t1 - message.t0 + (message.t2 - t3)) / 2 });
			if (samples.length > 16) samples.shift();
			const best = samples.reduce((a, b) => (b.roundTrip < a.roundTrip ? b : a));
			offset = best.offset;
			state.offsets.push([t3, offset]);
		} else if (message.type === 'command' && options.role === 'host') {
			if (message.action === 'play') void video.play().then(report);
			else if (message.action === 'seek') {
				video.currentTime = message.mediaTime;
				report();
			}
		} else if (message.type === 'report' && options.role === 'viewer') {
			// The line through the host's position only holds while it plays: start over on play.
			if (!message.playing || !hostPlaying) estimate = undefined;
			hostPlaying = message.playing;
			if (hostPlaying) updateEstimate(message.mediaTime, message.at);
		}
	});
}
