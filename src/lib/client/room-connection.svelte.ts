/**
 * The UI's view of one room connection: RoomClient's state as runes, with the room folded
 * from its events by the same `apply` the server uses. Create one per room (in the room's
 * layout or page, in the browser) and hand it down with {@link setRoomConnection}; never keep
 * it in a module, where it would outlive the page and leak between users.
 */
import { createContext } from 'svelte';
import { apply, createRoomState, type RoomState } from '../room';
import type { RoomEvent } from '../protocol';
import {
	RoomClient,
	type PingResult,
	type RoomClientOptions,
	type RoomStatus
} from './room-client';

export type RoomConnectionOptions = Pick<
	RoomClientOptions,
	'url' | 'WebSocket' | 'onEvent' | 'onEphemeral' | 'heartbeatMs'
> & {
	/** A state the caller already holds (e.g. server-rendered); the connection resumes after it. */
	initialState?: RoomState;
};

/** Reactive state of one room connection. */
export class RoomConnection {
	#status = $state<RoomStatus>('closed');
	#lastSeq = $state(0);
	#pending = $state(0);
	#eventCount = $state(0);
	#actor = $state<string | undefined>();
	#presence = $state.raw<string[]>([]);
	// Replaced, never mutated (apply returns a new object): raw state avoids deep proxies.
	#room = $state.raw<RoomState>(createRoomState());
	#connected = $derived(this.#status === 'open');
	readonly #client: RoomClient;

	constructor(options: RoomConnectionOptions) {
		if (options.initialState) this.#room = options.initialState;
		this.#lastSeq = this.#room.seq;
		this.#client = new RoomClient({
			url: options.url,
			WebSocket: options.WebSocket,
			heartbeatMs: options.heartbeatMs,
			onEphemeral: options.onEphemeral,
			lastSeq: this.#room.seq,
			onStatus: (status) => {
				this.#status = status;
				this.#actor = this.#client.actor;
				this.#pending = this.#client.pending;
			},
			onJoined: (info) => (this.#actor = info.actor),
			onEvent: (event: RoomEvent) => {
				this.#room = apply(this.#room, event);
				this.#lastSeq = event.seq;
				this.#eventCount++;
				options.onEvent?.(event);
			},
			onResync: (head, snapshot) => {
				// The server snapshots the same RoomState the reducer folds (src/lib/room).
				this.#room = snapshot as RoomState;
				this.#lastSeq = head;
			},
			onPresence: (actors) => (this.#presence = actors)
		});
		this.#client.connect();
	}

	get status(): RoomStatus {
		return this.#status;
	}
	/** Joined and live: what a "connected" badge should show. */
	get connected(): boolean {
		return this.#connected;
	}
	get lastSeq(): number {
		return this.#lastSeq;
	}
	/** Commands sent and not yet acknowledged: "saving…" while above zero. */
	get pending(): number {
		return this.#pending;
	}
	/** Events applied through this connection (not counting a snapshot). */
	get eventCount(): number {
		return this.#eventCount;
	}
	get actor(): string | undefined {
		return this.#actor;
	}
	get presence(): readonly string[] {
		return this.#presence;
	}
	get room(): RoomState {
		return this.#room;
	}

	/** Sends a command; see RoomClient.send. Rejects with a CommandError. */
	async send(name: string, payload: unknown): Promise<{ seq: number }> {
		const sent = this.#client.send(name, payload);
		this.#pending = this.#client.pending;
		try {
			return await sent;
		} finally {
			this.#pending = this.#client.pending;
		}
	}

	sendEphemeral(kind: string, data: unknown): boolean {
		return this.#client.sendEphemeral(kind, data);
	}

	ping(): Promise<PingResult> {
		return this.#client.ping();
	}

	/** Closes the socket for good; call from the owning component's teardown. */
	/** After `replaced` (another tab took over): connects again, making this tab the one in use. */
	continueHere(): void {
		this.#client.connect();
	}

	destroy(): void {
		this.#client.close();
	}
}

const [getContext, setContext] = createContext<RoomConnection>();

/** Makes `connection` available to the calling component's descendants. */
export function setRoomConnection(connection: RoomConnection): RoomConnection {
	return setContext(connection);
}

/** The room connection of the nearest ancestor that called {@link setRoomConnection}. */
export function getRoomConnection(): RoomConnection {
	return getContext();
}
