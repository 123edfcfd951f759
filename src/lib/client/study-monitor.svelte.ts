/**
 * A researcher's live monitor of one study: the monitor socket
 * (`/realtime/studies/<id>/monitor`, the session cookie authenticates it) folded into runes, and
 * the interventions as methods that settle on the server's answer. The server pushes every
 * change; nothing here polls. docs/MONITOR.md describes the frames.
 */
import { CloseCode } from '../protocol';
import {
	applyMonitorMessage,
	buildMonitorSocketUrl,
	MONITOR_PROTOCOL_VERSION,
	type MonitorServerMessage,
	type MonitorView
} from '../monitor';
import { ReconnectBackoff } from './backoff';

/**
 * `unauthorized`: the session ended (sign in again); `forbidden`: access to the study was
 * removed or reduced (4403; no retry); `incompatible`: reload the page; `replaced`: this
 * session opened more dashboards than it may hold and this one is the oldest (it waits until
 * asked back: reconnecting on its own would displace another one).
 */
export type MonitorStatus =
	| 'connecting'
	| 'open'
	| 'reconnecting'
	| 'closed'
	| 'unauthorized'
	| 'forbidden'
	| 'incompatible'
	| 'replaced';

/** How an intervention ended: committed (with its seq), or refused with the server's words. */
export type InterventionResult =
	{ ok: true; seq?: number; roomId?: string } | { ok: false; code: string; message: string };

type WebSocketLike = {
	onopen: ((event: Event) => void) | null;
	onmessage: ((event: MessageEvent) => void) | null;
	onclose: ((event: CloseEvent) => void) | null;
	onerror: ((event: Event) => void) | null;
	close(code?: number, reason?: string): void;
	send(data: string): void;
};

export type StudyMonitorOptions = {
	studyId: string;
	/** The page origin; `location.origin` when absent (read on connect, never during SSR). */
	origin?: string;
	WebSocket?: new (url: string) => WebSocketLike;
	fetch?: typeof fetch;
};

/** Reactive state of one study's live monitor. */
export class StudyMonitor {
	#status = $state<MonitorStatus>('closed');
	#view = $state.raw<MonitorView | null>(null);
	/** Client time of the latest frame (for "updated … ago"). */
	#receivedAt = $state<number | null>(null);
	readonly #options: StudyMonitorOptions;
	readonly #backoff = new ReconnectBackoff(undefined, Math.random);
	#socket: WebSocketLike | null = null;
	#retry: ReturnType<typeof setTimeout> | undefined;
	#stopped = false;

	constructor(options: StudyMonitorOptions) {
		this.#options = options;
	}

	get status(): MonitorStatus {
		return this.#status;
	}
	/** The picture, or null before the first snapshot. */
	get view(): MonitorView | null {
		return this.#view;
	}
	get receivedAt(): number | null {
		return this.#receivedAt;
	}

	connect(): void {
		this.#stopped = false;
		this.#open(this.#view ? 'reconnecting' : 'connecting');
	}

	/** Closes the socket for good (the page is left). */
	destroy(): void {
		this.#stopped = true;
		clearTimeout(this.#retry);
		this.#socket?.close(1000, 'page closed');
		this.#socket = null;
		this.#status = 'closed';
	}

	/** Asks the server for the whole picture again. */
	refresh(): void {
		this.#socket?.send(JSON.stringify({ type: 'refresh' }));
	}

	#open(status: MonitorStatus): void {
		this.#status = status;
		const Socket = this.#options.WebSocket ?? WebSocket;
		const origin = this.#options.origin ?? location.origin;
		const socket = new Socket(buildMonitorSocketUrl(origin, this.#options.studyId));
		this.#socket = socket;
		socket.onmessage = (event) => {
			if (socket !== this.#socket) return;
			let message: MonitorServerMessage;
			try {
				message = JSON.parse(String(event.data)) as MonitorServerMessage;
			} catch {
				return;
			}
			if (message.type === 'snapshot') {
				if (message.v !== MONITOR_PROTOCOL_VERSION) {
					this.#stopped = true;
					this.#status = 'incompatible';
					socket.close(1000, 'incompatible');
					return;
				}
				this.#status = 'open';
				this.#backoff.reset();
			}
			this.#view = applyMonitorMessage(this.#view, message);
			this.#receivedAt = Date.now();
		};
		socket.onclose = (event) => {
			if (socket !== this.#socket) return;
			this.#socket = null;
			if (this.#stopped) return;
			if (event.code === CloseCode.Unauthorized) {
				this.#status = 'unauthorized';
				return;
			}
			if (event.code === CloseCode.AccessRevoked) {
				this.#status = 'forbidden';
				return;
			}
			if (event.code === CloseCode.Replaced) {
				this.#status = 'replaced';
				return;
			}
			// A refused upgrade (signed out, no access) shows as 1006 before any frame: try
			// again later all the same; the layout's own checks redirect a signed-out page.
			this.#status = 'reconnecting';
			const slowDown = event.code === CloseCode.RateLimited;
			this.#retry = setTimeout(() => this.#open('reconnecting'), this.#backoff.nextDelay(slowDown));
		};
	}

	// --- Interventions (HTTP; each a durable room event attributed to the researcher) ----------

	/** Sends one room command (`stage.advance`, `room.pause`, `room.end`, `member.remove`, …). */
	command(roomId: string, name: string, payload: Record<string, unknown> = {}) {
		const id = crypto.randomUUID();
		const path = `/api/studies/${encodeURIComponent(this.#options.studyId)}/monitor/rooms/${encodeURIComponent(roomId)}/commands`;
		return this.#post(path, { id, name, payload });
	}

	/** Forms one group from the chosen waiters. */
	match(participantIds: string[]): Promise<InterventionResult> {
		const path = `/api/studies/${encodeURIComponent(this.#options.studyId)}/monitor/match`;
		return this.#post(path, { participantIds });
	}

	/**
	 * POSTs once, and once more after a network failure: command ids make a repeat harmless,
	 * and a repeated match finds its waiters gone and says so.
	 */
	async #post(path: string, body: unknown): Promise<InterventionResult> {
		const doFetch = this.#options.fetch ?? fetch;
		for (let attempt = 0; ; attempt++) {
			try {
				const response = await doFetch(path, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify(body)
				});
				const answer = (await response.json().catch(() => ({}))) as {
					seq?: number;
					roomId?: string;
					error?: string;
					message?: string;
				};
				if (response.ok) return { ok: true, seq: answer.seq, roomId: answer.roomId };
				return {
					ok: false,
					code: answer.error ?? String(response.status),
					message: answer.message ?? `The server answered ${response.status}.`
				};
			} catch {
				if (attempt >= 1) {
					return {
						ok: false,
						code: 'network',
						message: 'The server could not be reached. Check your connection and try again.'
					};
				}
			}
		}
	}
}
