import { CloseCode, type RoomEvent, type ServerMessage } from '../../protocol';
import { apply, createRoomState, decide, type RoomState } from '../../room';
import { log } from '../log';
import type { Bus } from './bus/types';
import { roomTopic, type Connection, type Transport } from './connection';
import type { EventStore, PendingEvent } from './event-store';
import type { GroupCommitter } from './group-commit';
import type { RealtimeMetrics } from './metrics';

export type RoomDeps = {
	store: EventStore;
	committer: GroupCommitter;
	bus: Bus;
	transport: Transport;
	metrics: RealtimeMetrics;
	/** Server clock, ms since the epoch. */
	now: () => number;
	/** A client further behind than this gets a snapshot (`resync`) instead of a replay. */
	replayLimit: number;
};

/** Recent events kept in memory to serve replays and fetches without the database. */
const RECENT_EVENTS = 1_000;
/** Commands decided together and committed as one append. */
const COMMANDS_PER_BATCH = 100;
/** Tries before a command gives up against a room written by other replicas all the time. */
const MAX_APPEND_ATTEMPTS = 8;
/** Command ids remembered per room for answering retries without the database. */
const REMEMBERED_COMMANDS = 10_000;
/** Events per replay frame, so one frame stays well under the 64 KiB limit of most clients. */
const REPLAY_CHUNK = 200;
/** Another replica's presence is forgotten when it has not announced itself for this long. */
const PRESENCE_TTL_MS = 15_000;

type QueuedCommand = { member: Connection; id: string; name: string; payload: unknown };

/** What the bus carries for a room. */
export type BusRoomMessage =
	| { k: 'events'; events: RoomEvent[] }
	| { k: 'eph'; from: string; kind: string; data: unknown }
	/** Also a heartbeat: `head` lets a replica notice events whose bus message it never got. */
	| { k: 'presence'; replica: string; actors: string[]; head: number }
	| { k: 'hello' };

type Outcome =
	| { kind: 'ack'; seq: number }
	| { kind: 'event'; index: number }
	| { kind: 'rejected'; reason: string; message: string };

const clientKey = (actor: string, id: string) => `${actor}\u0000${id}`;

/** Background work must never become an unhandled rejection (that would end the process). */
export function logFailure(room: string, what: string) {
	return (error: unknown) =>
		log.error(`realtime.${what}_failed`, { room, error: (error as Error).message });
}

function frame(message: ServerMessage): string {
	return JSON.stringify(message);
}

/**
 * One room as this replica sees it: its state folded from the log, the local members, and the
 * command pipeline parse → authorize → decide → append → ack → fan out. Every change to the
 * state runs through one promise chain, so events are applied (and fanned out) exactly once,
 * in seq order, whatever their source: our own commits, the bus, or a catch-up from the log.
 */
export class LiveRoom {
	readonly id: string;
	readonly #deps: RoomDeps;
	readonly #topic: string;
	#state: RoomState;
	#recent: RoomEvent[] = [];
	readonly #committedCommands = new Map<string, number>();
	readonly #members = new Set<Connection>();
	readonly #localActors = new Map<string, number>();
	readonly #remotePresence = new Map<string, { actors: string[]; at: number }>();
	#lastPresenceFrame = '';
	#chain: Promise<unknown> = Promise.resolve();
	#commands: QueuedCommand[] = [];
	#processing = false;

	private constructor(id: string, deps: RoomDeps, state: RoomState, recent: RoomEvent[]) {
		this.id = id;
		this.#deps = deps;
		this.#topic = roomTopic(id);
		this.#state = state;
		this.#recent = recent;
		for (const event of recent) this.#rememberCommand(event);
	}

	/** Loads a room by folding its whole log; undefined when the room does not exist. */
	static async load(id: string, deps: RoomDeps): Promise<LiveRoom | undefined> {
		const record = await deps.store.findRoom(id);
		if (!record) return undefined;
		let state = createRoomState();
		const all: RoomEvent[] = [];
		const committed: RoomEvent[] = [];
		for (;;) {
			const page = await deps.store.readEvents(id, state.seq, Number.MAX_SAFE_INTEGER, 5_000);
			for (const event of page) {
				state = apply(state, event);
				if (event.cid) committed.push(event);
				all.push(event);
			}
			if (page.length < 5_000) break;
		}
		const room = new LiveRoom(id, deps, state, all.slice(-RECENT_EVENTS));
		for (const event of committed) room.#rememberCommand(event);
		return room;
	}

	get head(): number {
		return this.#state.seq;
	}

	get memberCount(): number {
		return this.#members.size;
	}

	/** Runs `task` after everything queued before it; a failing task does not block the rest. */
	#run<T>(task: () => Promise<T> | T): Promise<T> {
		const result = this.#chain.then(task);
		this.#chain = result.catch(() => undefined);
		return result;
	}

	// --- Members ------------------------------------------------------------------------------

	/**
	 * Adds a member that has applied everything up to `lastSeq`: answers `joined`, replays
	 * what it missed (or sends a snapshot), then subscribes it to live events. Runs in the
	 * room's chain, so no event can slip between the replay and the subscription.
	 */
	join(member: Connection, lastSeq: number): Promise<void> {
		return this.#run(async () => {
			if (lastSeq > this.head) await this.#catchUpFromLog();
			const { actor } = member.auth;
			member.send(
				frame({
					type: 'joined',
					room: this.id,
					actor: actor.id,
					head: this.head,
					serverTime: this.#deps.now()
				})
			);
			if (lastSeq > this.head || this.head - lastSeq > this.#deps.replayLimit) {
				member.send(frame({ type: 'resync', head: this.head, snapshot: this.#state }));
			} else if (lastSeq < this.head) {
				await this.#sendRange(member, lastSeq + 1, this.head);
			}
			this.#members.add(member);
			member.subscribe(this.#topic);
			this.#localActors.set(actor.id, (this.#localActors.get(actor.id) ?? 0) + 1);
			// When nothing changed (a second tab of the same actor) nobody else is told, but the
			// newcomer still needs the list.
			if (!this.#announcePresence()) member.send(this.#presenceFrame());
		});
	}

	leave(member: Connection): void {
		if (!this.#members.delete(member)) return;
		member.unsubscribe(this.#topic);
		const actor = member.auth.actor.id;
		const remaining = (this.#localActors.get(actor) ?? 1) - 1;
		if (remaining > 0) this.#localActors.set(actor, remaining);
		else this.#localActors.delete(actor);
		this.#announcePresence();
	}

	/**
	 * Answers a client's request for a missed range, clamped to what exists and to one
	 * replay's worth of events (a client that needs more asks again).
	 */
	fetch(member: Connection, from: number, to: number): Promise<void> {
		const start = Math.max(1, from);
		const end = Math.min(to, this.head, start + this.#deps.replayLimit - 1);
		return this.#run(() => this.#sendRange(member, start, end));
	}

	async #sendRange(member: Connection, from: number, to: number): Promise<void> {
		if (from > to) {
			member.send(frame({ type: 'events', events: [] }));
			return;
		}
		const oldest = this.#recent[0]?.seq ?? Number.POSITIVE_INFINITY;
		const events =
			from >= oldest
				? this.#recent.filter((e) => e.seq >= from && e.seq <= to)
				: await this.#deps.store.readEvents(this.id, from - 1, to, to - from + 1);
		for (let i = 0; i < events.length; i += REPLAY_CHUNK) {
			member.send(frame({ type: 'events', events: events.slice(i, i + REPLAY_CHUNK) }));
		}
	}

	// --- Commands -----------------------------------------------------------------------------

	/** Queues a command; commands are decided in arrival order and committed in batches. */
	submit(member: Connection, id: string, name: string, payload: unknown): void {
		this.#commands.push({ member, id, name, payload });
		if (this.#processing) return;
		this.#processing = true;
		void this.#run(async () => {
			try {
				while (this.#commands.length > 0) {
					const batch = this.#commands.splice(0, COMMANDS_PER_BATCH);
					try {
						await this.#decideAndCommit(batch);
					} catch (error) {
						this.#failBatch(batch, error);
					}
				}
			} finally {
				this.#processing = false;
			}
		});
	}

	/**
	 * The commit's outcome is unknown (the database failed mid-way). Closing the senders'
	 * sockets makes their clients reconnect, resume and resend; command ids make that safe.
	 */
	#failBatch(batch: QueuedCommand[], error: unknown): void {
		log.error('realtime.commit_failed', {
			room: this.id,
			commands: batch.length,
			error: (error as Error).message
		});
		for (const member of new Set(batch.map((command) => command.member))) {
			member.close(CloseCode.InternalError, 'commit failed; resend after reconnecting');
		}
	}

	async #decideAndCommit(batch: QueuedCommand[]): Promise<void> {
		for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
			const { outcomes, pending } = this.#decideBatch(batch);
			if (pending.length === 0) return this.#answer(batch, outcomes, []);
			const result = await this.#deps.committer.append({
				roomId: this.id,
				expectedHead: this.head,
				events: pending
			});
			if (result.ok) {
				this.#deps.metrics.eventsAppended += result.events.length;
				this.#applyCommitted(result.events);
				this.#deps.bus.publish(this.#topic, JSON.stringify({ k: 'events', events: result.events }));
				return this.#answer(batch, outcomes, result.events);
			}
			if (result.reason === 'conflict') {
				this.#deps.metrics.conflicts++;
			} else {
				// A retried command was committed earlier (perhaps by another replica): learn its seq.
				const found = await this.#deps.store.findCommittedSeqs(
					this.id,
					batch.map((c) => ({ actor: c.member.auth.actor.id, clientId: c.id }))
				);
				for (const [key, seq] of found) this.#rememberKey(key, seq);
			}
			await this.#catchUpFromLog();
		}
		const busy = {
			kind: 'rejected',
			reason: 'try_again',
			message: 'The room is busy; send the command again.'
		} as const;
		this.#answer(
			batch,
			batch.map(() => busy),
			[]
		);
	}

	/** Decides a batch against a scratch copy of the state. Pure apart from reading it. */
	#decideBatch(batch: QueuedCommand[]): { outcomes: Outcome[]; pending: PendingEvent[] } {
		let scratch = this.#state;
		const outcomes: Outcome[] = [];
		const pending: PendingEvent[] = [];
		const inBatch = new Map<string, number>();
		for (const { member, id, name, payload } of batch) {
			const actor = member.auth.actor;
			const key = clientKey(actor.id, id);
			const committed = this.#committedCommands.get(key);
			if (committed !== undefined) {
				outcomes.push({ kind: 'ack', seq: committed });
				continue;
			}
			const earlier = inBatch.get(key);
			if (earlier !== undefined) {
				outcomes.push({ kind: 'event', index: earlier });
				continue;
			}
			if (actor.role === 'observer') {
				outcomes.push({
					kind: 'rejected',
					reason: 'forbidden',
					message: 'Observers cannot send commands.'
				});
				continue;
			}
			const decision = decide(scratch, actor, name, payload);
			if (!decision.ok) {
				outcomes.push({ kind: 'rejected', reason: decision.reason, message: decision.message });
				continue;
			}
			const event: RoomEvent = {
				seq: scratch.seq + 1,
				at: this.#deps.now(),
				actor: actor.id,
				name: decision.name,
				payload: decision.payload,
				cid: id
			};
			scratch = apply(scratch, event);
			inBatch.set(key, pending.length);
			outcomes.push({ kind: 'event', index: pending.length });
			pending.push({
				actor: actor.id,
				name: decision.name,
				payload: decision.payload,
				clientId: id
			});
		}
		return { outcomes, pending };
	}

	/** Acks and rejections go out after the commit and after the events were fanned out. */
	#answer(batch: QueuedCommand[], outcomes: Outcome[], committed: RoomEvent[]): void {
		batch.forEach(({ member, id }, i) => {
			const outcome = outcomes[i]!;
			if (outcome.kind === 'rejected') {
				this.#deps.metrics.commandsRejected++;
				member.send(
					frame({ type: 'rejected', id, reason: outcome.reason, message: outcome.message })
				);
			} else {
				const seq = outcome.kind === 'ack' ? outcome.seq : committed[outcome.index]!.seq;
				member.send(frame({ type: 'ack', id, seq }));
			}
		});
	}

	// --- Applying events ----------------------------------------------------------------------

	/** Folds committed events that directly follow the head and fans them out locally. */
	#applyCommitted(events: RoomEvent[]): void {
		const fresh = events.filter((e) => e.seq > this.head);
		if (fresh.length === 0) return;
		if (fresh[0]!.seq !== this.head + 1)
			throw new Error(`gap in room ${this.id} at ${this.head + 1}`);
		for (const event of fresh) {
			this.#state = apply(this.#state, event);
			this.#recent.push(event);
			this.#rememberCommand(event);
		}
		if (this.#recent.length > RECENT_EVENTS * 1.5)
			this.#recent = this.#recent.slice(-RECENT_EVENTS);
		const message: ServerMessage =
			fresh.length === 1 ? { type: 'event', event: fresh[0]! } : { type: 'events', events: fresh };
		this.#deps.transport.publish(this.#topic, frame(message));
		const now = this.#deps.now();
		for (const event of fresh) this.#deps.metrics.fanoutMs.observe(Math.max(0, now - event.at));
	}

	#rememberCommand(event: RoomEvent): void {
		if (event.cid) this.#rememberKey(clientKey(event.actor, event.cid), event.seq);
	}

	/**
	 * Remembers the latest command ids only: a retry of an older one is still applied once,
	 * because the log's unique index refuses it and the duplicate path looks its seq up.
	 */
	#rememberKey(key: string, seq: number): void {
		this.#committedCommands.set(key, seq);
		if (this.#committedCommands.size > REMEMBERED_COMMANDS) {
			this.#committedCommands.delete(this.#committedCommands.keys().next().value!);
		}
	}

	/** Reads everything after our head from the log and applies it. */
	#catchUpFromLog(): Promise<void> {
		return (async () => {
			for (;;) {
				const events = await this.#deps.store.readEvents(
					this.id,
					this.head,
					Number.MAX_SAFE_INTEGER,
					1_000
				);
				if (events.length === 0) return;
				this.#deps.metrics.busGapsFilled++;
				this.#applyCommitted(events);
				if (events.length < 1_000) return;
			}
		})();
	}

	/** Catches up from the log, in the chain (after a bus outage, or periodically). */
	catchUp(): Promise<void> {
		return this.#run(() => this.#catchUpFromLog());
	}

	// --- Bus ----------------------------------------------------------------------------------

	/** Handles a message another replica published for this room. */
	receiveFromBus(message: BusRoomMessage): void {
		this.#deps.metrics.busMessagesIn++;
		switch (message.k) {
			case 'events':
				this.#run(async () => {
					const fresh = message.events.filter((e) => e.seq > this.head);
					if (fresh.length === 0) return;
					const now = this.#deps.now();
					if (
						fresh[0]!.seq === this.head + 1 &&
						fresh.every((e, i) => e.seq === fresh[0]!.seq + i)
					) {
						this.#applyCommitted(fresh);
					} else {
						await this.#catchUpFromLog();
					}
					for (const event of fresh)
						this.#deps.metrics.busLagMs.observe(Math.max(0, now - event.at));
				}).catch(logFailure(this.id, 'apply_bus_events'));
				return;
			case 'eph':
				this.#deps.transport.publish(
					this.#topic,
					frame({ type: 'ephemeral', from: message.from, kind: message.kind, data: message.data })
				);
				return;
			case 'presence':
				this.#remotePresence.set(message.replica, { actors: message.actors, at: this.#deps.now() });
				this.#publishPresence();
				// The bus is at-most-once: a head beyond ours means we missed something; read the log.
				if (message.head > this.head) this.catchUp().catch(logFailure(this.id, 'catch_up'));
				return;
			case 'hello':
				this.#announcePresence();
				return;
		}
	}

	/** Relays an ephemeral message to local members and other replicas; nothing is stored. */
	sendEphemeral(member: Connection, kind: string, data: unknown): void {
		const from = member.auth.actor.id;
		this.#deps.transport.publish(this.#topic, frame({ type: 'ephemeral', from, kind, data }));
		this.#deps.bus.publish(this.#topic, JSON.stringify({ k: 'eph', from, kind, data }));
	}

	// --- Presence -----------------------------------------------------------------------------

	/** Tells other replicas (and local members) who is connected here; true if local members were sent a new list. */
	#announcePresence(): boolean {
		const actors = [...this.#localActors.keys()];
		this.#deps.bus.publish(
			this.#topic,
			JSON.stringify({ k: 'presence', replica: this.#deps.bus.replicaId, actors, head: this.head })
		);
		return this.#publishPresence();
	}

	/** Periodic: re-announce, forget silent replicas (they may have died). */
	refreshPresence(): void {
		const cutoff = this.#deps.now() - PRESENCE_TTL_MS;
		for (const [replica, entry] of this.#remotePresence) {
			if (entry.at < cutoff) this.#remotePresence.delete(replica);
		}
		this.#announcePresence();
	}

	/** Asks other replicas to announce their members (when this replica activates the room). */
	greet(): void {
		this.#deps.bus.publish(this.#topic, JSON.stringify({ k: 'hello' }));
	}

	#presenceFrame(): string {
		const actors = new Set(this.#localActors.keys());
		for (const entry of this.#remotePresence.values())
			for (const actor of entry.actors) actors.add(actor);
		return frame({ type: 'presence', actors: [...actors].sort() });
	}

	#publishPresence(): boolean {
		const next = this.#presenceFrame();
		if (next === this.#lastPresenceFrame) return false;
		this.#lastPresenceFrame = next;
		this.#deps.transport.publish(this.#topic, next);
		return true;
	}
}
