import {
	CloseCode,
	type RoomEvent,
	type ServerMessage,
	type TelemetrySample
} from '../../protocol';
import { describeDatabaseError } from '../db/errors';
import { log, logThrottled } from '../log';
import type { Bus } from './bus/types';
import { roomTopic, type Connection, type Transport } from './connection';
import type { EventStore, PendingEvent } from './event-store';
import type { GroupCommitter } from './group-commit';
import type { RealtimeMetrics } from './metrics';
import type { RoomMonitorTap } from '../monitor/tap';
import type { StudyRoomServices, StudyRoomSetup } from '../rooms/study-rooms';
import { toSignalSample } from '../signals/batch';
import { RoomMetrics } from '../signals/room-metrics';
import type { StudyRoomShell } from '../../room';
import { createStudyModel, GENERIC_MODEL, type CommandActor, type RoomModel } from './room-model';
import type { StageAllowance } from './telemetry-quota';

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
	/** Study rooms' database side; without it a study room does not load. */
	studyRooms?: StudyRoomServices;
	/** How long a member's sockets may all be closed before they count as gone (dropout). */
	presenceGraceMs: number;
	/**
	 * After a load, how long to listen for other replicas' presence before members connected
	 * nowhere are taken as disconnected (their replica died, or they left while it was down).
	 */
	reconcileAfterMs: number;
	/** Members who never connect count as gone this long after formation (JOIN_GRACE_MS). */
	joinGraceMs: number;
	/** Study rooms tell the live monitors their events and members' quality telemetry. */
	monitor?: RoomMonitorTap;
};

/**
 * Presence grace: a reload, a network switch or a phone locking for a moment closes the socket
 * for a few seconds; only an absence longer than this acts the stage's dropout policy.
 */
export const PRESENCE_GRACE_MS = 10_000;

/** A due deadline whose tick changed nothing (another replica won, or clock jitter): retry. */
const WAKEUP_RETRY_MS = 250;

/** The system actor: this server's own commands (ticks, connection and presence). */
const SYSTEM: CommandActor = { id: 'system', role: 'system' };

/**
 * After a load: other replicas answer `hello` with their presence within milliseconds; a few
 * seconds also cover one missed answer before anyone is taken as gone.
 */
export const RECONCILE_AFTER_MS = 1_000;

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
/** How often a `group_metric` stage's live metric is sent (the issue: once a second). */
const METRIC_INTERVAL_MS = 1_000;

/** `member` and `id` are absent for the server's own commands, which nobody is answered for. */
type QueuedCommand = {
	member?: Connection;
	actor: CommandActor;
	id?: string;
	name: string;
	payload: unknown;
	/** A server command someone awaits (a webhook): told how it ended, after the commit. */
	settle?: (result: ServerCommandResult) => void;
};

/** How one of the server's own commands with an id ended (`submitServer`). */
export type ServerCommandResult =
	{ ok: true; seq: number } | { ok: false; reason: string; message: string };

/** What the bus carries for a room. */
export type BusRoomMessage =
	| { k: 'events'; events: RoomEvent[] }
	| { k: 'eph'; from: string; kind: string; data: unknown }
	/** Also a heartbeat: `head` lets a replica notice events whose bus message it never got. */
	| { k: 'presence'; replica: string; actors: string[]; head: number }
	| { k: 'hello' }
	/**
	 * Signal samples taken on another replica (socket or POST), so every replica that has the
	 * room loaded computes the same metric for its own sockets. The receiver checks membership.
	 */
	| { k: 'sig'; actor: CommandActor; samples: TelemetrySample[] };

type Outcome =
	| { kind: 'ack'; seq: number }
	| { kind: 'event'; index: number }
	| { kind: 'rejected'; reason: string; message: string }
	| { kind: 'silent' };

/** What the sender of a command the database refused is told (the log keeps the SQLSTATE). */
const UNSTORABLE: Outcome = {
	kind: 'rejected',
	reason: 'unstorable',
	message: 'The server could not store this command, so it was not applied.'
};

const clientKey = (actor: string, id: string) => `${actor}\u0000${id}`;

/** Background work must never become an unhandled rejection (that would end the process). */
export function logFailure(room: string, what: string) {
	return (error: unknown) =>
		log.error(`realtime.${what}_failed`, { room, error: describeDatabaseError(error) });
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
	readonly #model: RoomModel;
	#study: StudyRoomSetup | undefined;
	#state: { seq: number };
	#wakeupTimer: ReturnType<typeof setTimeout> | undefined;
	#wakeupAt: number | null = null;
	#firedFor: number | null = null;
	#reconcileTimer: ReturnType<typeof setTimeout> | undefined;
	readonly #lastViews = new Map<Connection, string>();
	#disposed = false;
	#recent: RoomEvent[] = [];
	readonly #committedCommands = new Map<string, number>();
	readonly #members = new Set<Connection>();
	readonly #localActors = new Map<string, number>();
	readonly #remotePresence = new Map<string, { actors: string[]; at: number }>();
	#lastPresenceFrame = '';
	#chain: Promise<unknown> = Promise.resolve();
	#commands: QueuedCommand[] = [];
	#processing = false;
	/** Study rooms only: members' recent signal samples for the live group metric. */
	readonly #signals: RoomMetrics | undefined;
	#metricTimer: ReturnType<typeof setInterval> | undefined;

	private constructor(
		id: string,
		deps: RoomDeps,
		model: RoomModel,
		state: { seq: number },
		recent: RoomEvent[]
	) {
		this.id = id;
		this.#deps = deps;
		this.#model = model;
		this.#topic = roomTopic(id);
		this.#state = state;
		this.#recent = recent;
		for (const event of recent) this.#rememberCommand(event);
		if (model.kind === 'study') this.#signals = new RoomMetrics({ now: () => deps.now() });
	}

	/** Loads a room by folding its whole log; undefined when the room does not exist. */
	static async load(id: string, deps: RoomDeps): Promise<LiveRoom | undefined> {
		const record = await deps.store.findRoom(id);
		if (!record) return undefined;
		let model = GENERIC_MODEL;
		let setup: StudyRoomSetup | undefined;
		if (record.kind === 'study') {
			const loaded = await deps.studyRooms?.loadSetup(id);
			if (!loaded?.ok) {
				log.error('realtime.study_room_unavailable', {
					room: id,
					reason: loaded?.reason ?? 'no_study_services'
				});
				return undefined;
			}
			setup = loaded.setup;
			model = createStudyModel(setup, deps.joinGraceMs);
		}
		let state = model.initial;
		const all: RoomEvent[] = [];
		const committed: RoomEvent[] = [];
		for (;;) {
			const page = await deps.store.readEvents(id, state.seq, Number.MAX_SAFE_INTEGER, 5_000);
			for (const event of page) {
				state = model.apply(state, event);
				if (event.cid) committed.push(event);
				all.push(event);
			}
			if (page.length < 5_000) break;
		}
		const room = new LiveRoom(id, deps, model, state, all.slice(-RECENT_EVENTS));
		for (const event of committed) room.#rememberCommand(event);
		if (setup) {
			room.#study = setup;
			// Rows derived from the log are written again (idempotently): a replica that died
			// between a commit and its rows leaves nothing missing once the room is loaded anew.
			if (all.length > 0) void deps.studyRooms!.recordEffects(id, setup, all);
			room.#scheduleWakeup();
			room.#syncMetricTimer();
			// A room loaded with a stale wake-up (formation's placeholder, or one written by an
			// older server) stores its real one, so the sweeper neither misses nor repeats it.
			const wakeAt = model.wakeup(state);
			if (wakeAt !== record.wakeAt) await deps.store.setWakeups([{ roomId: id, wakeAt }]);
			room.#reconcileTimer = setTimeout(() => room.#reconcilePresence(), deps.reconcileAfterMs);
			room.#reconcileTimer.unref?.();
		}
		return room;
	}

	get head(): number {
		return this.#state.seq;
	}

	/** The room's next deadline (server ms), or null: when an idle room may be unloaded. */
	get nextWakeup(): number | null {
		return this.#model.wakeup(this.#state);
	}

	/** Still listening for other replicas after a load: not to be unloaded before it decided. */
	get reconciling(): boolean {
		return this.#reconcileTimer !== undefined;
	}

	/**
	 * Whether a member (participant or bot) has a socket here: this replica then hosts the room
	 * (`rooms.host_replica`), so its death is noticed and the room taken over.
	 */
	get hostsMembers(): boolean {
		for (const actor of this.#localActors.keys()) {
			if (this.#model.memberOf(this.#state, { id: actor, role: 'participant' })) return true;
		}
		return false;
	}

	get kind(): RoomModel['kind'] {
		return this.#model.kind;
	}

	get memberCount(): number {
		return this.#members.size;
	}

	/** What one member may store as telemetry on the room's current stage (the quota's stage). */
	get telemetryStage(): StageAllowance {
		return this.#model.telemetryStage(this.#state);
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
				const snapshot = this.#model.snapshot(this.#state);
				member.send(frame({ type: 'resync', head: this.head, snapshot }));
			} else if (lastSeq < this.head) {
				await this.#sendRange(member, lastSeq + 1, this.head);
			}
			this.#members.add(member);
			member.subscribe(this.#topic);
			this.#localActors.set(actor.id, (this.#localActors.get(actor.id) ?? 0) + 1);
			// When nothing changed (a second tab of the same actor) nobody else is told, but the
			// newcomer still needs the list.
			if (!this.#announcePresence()) member.send(this.#presenceFrame());
			this.#sendView(member);
			this.#memberConnected(actor);
		});
	}

	leave(member: Connection): void {
		if (!this.#members.delete(member)) return;
		member.unsubscribe(this.#topic);
		const actor = member.auth.actor.id;
		const remaining = (this.#localActors.get(actor) ?? 1) - 1;
		if (remaining > 0) this.#localActors.set(actor, remaining);
		else this.#localActors.delete(actor);
		this.#lastViews.delete(member);
		this.#announcePresence();
		if (remaining <= 0) this.#memberDisconnected(member.auth.actor);
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
		const shown = events.map((event) => this.#model.redact(event));
		for (let i = 0; i < shown.length; i += REPLAY_CHUNK) {
			member.send(frame({ type: 'events', events: shown.slice(i, i + REPLAY_CHUNK) }));
		}
	}

	// --- Commands -----------------------------------------------------------------------------

	/** Queues a command; commands are decided in arrival order and committed in batches. */
	submit(member: Connection, id: string, name: string, payload: unknown): void {
		this.#enqueue({ member, actor: member.auth.actor, id, name, payload });
	}

	/**
	 * Runs one of the server's own commands carrying an id (a LiveKit webhook's id, an egress
	 * id), exactly once by that id like any client command; resolves after the commit.
	 */
	submitServer(name: string, payload: unknown, id: string): Promise<ServerCommandResult> {
		return this.submitAs(SYSTEM, name, payload, id);
	}

	/**
	 * Runs a command with an id for `actor` without a socket (an experimenter's intervention
	 * from the monitor, over HTTP): decided, committed and fanned out like a socket's command,
	 * exactly once by (actor, id); resolves after the commit.
	 */
	submitAs(
		actor: CommandActor,
		name: string,
		payload: unknown,
		id: string
	): Promise<ServerCommandResult> {
		if (this.#disposed) {
			return Promise.resolve({ ok: false, reason: 'unavailable', message: 'Room unloaded.' });
		}
		return new Promise((settle) => this.#enqueue({ actor, id, name, payload, settle }));
	}

	/** Queues one of the server's own commands (ticks, connection, presence). */
	#submitSystem(name: string, payload: unknown): void {
		if (this.#disposed) return;
		this.#enqueue({ actor: SYSTEM, name, payload });
	}

	#enqueue(command: QueuedCommand): void {
		this.#commands.push(command);
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
			error: describeDatabaseError(error)
		});
		for (const member of new Set(batch.flatMap((command) => command.member ?? []))) {
			member.close(CloseCode.InternalError, 'commit failed; resend after reconnecting');
		}
		for (const { settle } of batch) {
			settle?.({
				ok: false,
				reason: 'commit_failed',
				message: `The commit failed (${describeDatabaseError(error)}).`
			});
		}
	}

	async #decideAndCommit(batch: QueuedCommand[]): Promise<void> {
		for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
			const { outcomes, pending, after } = this.#decideBatch(batch);
			if (pending.length === 0) return this.#answer(batch, outcomes, []);
			const result = await this.#deps.committer.append({
				roomId: this.id,
				expectedHead: this.head,
				events: pending,
				...(this.#model.kind === 'study'
					? {
							wake: {
								at: this.#model.wakeup(after),
								replica: this.#deps.bus.replicaId,
								hosting: this.hostsMembers
							}
						}
					: {})
			});
			if (result.ok) {
				this.#deps.metrics.eventsAppended += result.events.length;
				this.#applyCommitted(result.events);
				if (this.#study) {
					void this.#deps.studyRooms!.recordEffects(this.id, this.#study, result.events);
				}
				this.#deps.bus.publish(this.#topic, JSON.stringify({ k: 'events', events: result.events }));
				return this.#answer(batch, outcomes, result.events);
			}
			if (result.reason === 'refused') return this.#isolateRefused(batch, result.detail);
			if (result.reason === 'conflict') {
				this.#deps.metrics.conflicts++;
			} else {
				// A retried command was committed earlier (perhaps by another replica): learn its seq.
				const found = await this.#deps.store.findCommittedSeqs(
					this.id,
					batch.flatMap((c) => (c.id ? [{ actor: c.actor.id, clientId: c.id }] : []))
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

	/**
	 * The database refused what this batch carries. Halves are decided and committed again,
	 * one after the other, until the command that carries it stands alone: only its sender is
	 * refused, and every other command of the batch is applied as if sent alone.
	 */
	async #isolateRefused(batch: QueuedCommand[], detail: string): Promise<void> {
		if (batch.length > 1) {
			const middle = Math.ceil(batch.length / 2);
			await this.#decideAndCommit(batch.slice(0, middle));
			await this.#decideAndCommit(batch.slice(middle));
			return;
		}
		this.#deps.metrics.commandsUnstorable++;
		const [command] = batch;
		logThrottled('warn', 'realtime.command_unstorable', {
			room: this.id,
			command: command!.name,
			detail
		});
		this.#answer(batch, [UNSTORABLE], []);
	}

	/**
	 * Decides a batch against a scratch copy of the state. Pure apart from reading it. One
	 * command may give several events; only the last carries its client id (the log's unique
	 * index allows one row per id), so the ack's seq is the command's last event.
	 */
	#decideBatch(batch: QueuedCommand[]): {
		outcomes: Outcome[];
		pending: PendingEvent[];
		after: { seq: number };
	} {
		let scratch = this.#state;
		const outcomes: Outcome[] = [];
		const pending: PendingEvent[] = [];
		const inBatch = new Map<string, number>();
		const now = this.#deps.now();
		for (const { actor, id, name, payload } of batch) {
			const key = id === undefined ? undefined : clientKey(actor.id, id);
			const committed = key === undefined ? undefined : this.#committedCommands.get(key);
			if (committed !== undefined) {
				outcomes.push({ kind: 'ack', seq: committed });
				continue;
			}
			const earlier = key === undefined ? undefined : inBatch.get(key);
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
			const decision = this.#model.decide(scratch, actor, name, payload, now);
			if (!decision.ok) {
				outcomes.push(
					decision.silent
						? { kind: 'silent' }
						: { kind: 'rejected', reason: decision.reason, message: decision.message }
				);
				continue;
			}
			decision.events.forEach((event, i) => {
				const last = i === decision.events.length - 1;
				const clientId = last ? id : undefined;
				scratch = this.#model.apply(scratch, {
					seq: scratch.seq + 1,
					at: now,
					actor: actor.id,
					name: event.name,
					payload: event.payload,
					...(clientId ? { cid: clientId } : {})
				});
				pending.push({ actor: actor.id, name: event.name, payload: event.payload, clientId });
			});
			if (key) inBatch.set(key, pending.length - 1);
			outcomes.push({ kind: 'event', index: pending.length - 1 });
		}
		return { outcomes, pending, after: scratch };
	}

	/** Acks and rejections go out after the commit and after the events were fanned out. */
	#answer(batch: QueuedCommand[], outcomes: Outcome[], committed: RoomEvent[]): void {
		if (this.#model.kind === 'study') this.#scheduleWakeup();
		batch.forEach(({ member, id, settle }, i) => {
			const outcome = outcomes[i]!;
			if (settle) {
				if (outcome.kind === 'rejected') {
					settle({ ok: false, reason: outcome.reason, message: outcome.message });
				} else if (outcome.kind === 'silent') {
					settle({ ok: false, reason: 'nothing_to_do', message: 'Nothing to do.' });
				} else {
					const seq = outcome.kind === 'ack' ? outcome.seq : committed[outcome.index]!.seq;
					settle({ ok: true, seq });
				}
			}
			// The server's own commands have nobody to answer; "nothing to do" is not news.
			if (!member || id === undefined || outcome.kind === 'silent') return;
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
			this.#state = this.#model.apply(this.#state, event);
			this.#recent.push(event);
			this.#rememberCommand(event);
		}
		if (this.#recent.length > RECENT_EVENTS * 1.5)
			this.#recent = this.#recent.slice(-RECENT_EVENTS);
		const shown = fresh.map((event) => this.#model.redact(event));
		const message: ServerMessage =
			shown.length === 1 ? { type: 'event', event: shown[0]! } : { type: 'events', events: shown };
		this.#deps.transport.publish(this.#topic, frame(message));
		const now = this.#deps.now();
		for (const event of fresh) this.#deps.metrics.fanoutMs.observe(Math.max(0, now - event.at));
		if (this.#model.kind === 'study') {
			for (const member of this.#members) this.#sendView(member);
			this.#scheduleWakeup();
			this.#syncMetricTimer();
			this.#restoreLocalConnections(fresh);
			if (this.#study) {
				const room = { shell: this.#state as StudyRoomShell, formedAt: this.#study.formedAt };
				this.#deps.monitor?.roomEvents(this.#study.studyId, this.id, fresh, room);
			}
		}
	}

	// --- Study rooms: views, timers, connection and presence ----------------------------------

	/** Sends a member its own view of the room when it changed since the last one it got. */
	#sendView(member: Connection): void {
		const view = this.#model.view(this.#state, member.auth.actor);
		if (view === undefined) return;
		const body = JSON.stringify(view);
		if (this.#lastViews.get(member) === body) return;
		this.#lastViews.set(member, body);
		member.send(frame({ type: 'view', seq: this.head, ...(view as object) } as ServerMessage));
	}

	/**
	 * Keeps one timer at the room's next deadline. Every replica with the room loaded does so;
	 * the reducer's stale checks make exactly one of their ticks count.
	 */
	#scheduleWakeup(): void {
		const at = this.#model.wakeup(this.#state);
		if (at === this.#wakeupAt || this.#disposed) return;
		clearTimeout(this.#wakeupTimer);
		this.#wakeupAt = at;
		this.#wakeupTimer = undefined;
		if (at === null) return;
		// Timers may fire a little early (then the tick is `not_due` and we come back), and a
		// deadline this replica already ticked for is retried slowly rather than in a tight loop.
		const retry = this.#firedFor !== null && at <= this.#firedFor;
		const delay = retry ? WAKEUP_RETRY_MS : Math.max(0, at - this.#deps.now()) + 1;
		this.#wakeupTimer = setTimeout(() => {
			this.#wakeupAt = null;
			this.#firedFor = at;
			this.#submitSystem('tick', {});
		}, delay);
	}

	/** Whether an actor has a socket open here or on another replica. */
	#isConnectedAnywhere(actorId: string): boolean {
		if (this.#localActors.has(actorId)) return true;
		for (const entry of this.#remotePresence.values())
			if (entry.actors.includes(actorId)) return true;
		return false;
	}

	/** A member's socket opened: they are connected, and back if they had been counted gone. */
	#memberConnected(actor: CommandActor): void {
		const memberId = this.#model.memberOf(this.#state, actor);
		if (!memberId) {
			void this.#admitLateJoiner(actor);
			return;
		}
		this.#submitSystem('member.connection', { memberId, connected: true });
		this.#submitSystem('member.presence', { memberId, present: true });
	}

	/**
	 * Someone who joined an open room after it was formed (room_members has them, the room's
	 * state not yet): `member.join` admits them through the log, so every replica agrees, then
	 * they connect like anyone else. The upgrade already checked room_members.
	 */
	async #admitLateJoiner(actor: CommandActor): Promise<void> {
		if (this.#model.kind !== 'study' || (actor.role !== 'participant' && actor.role !== 'bot')) {
			return;
		}
		const member = await this.#deps.studyRooms?.findMember(this.id, actor.id);
		if (!member) return;
		this.#submitSystem('member.join', {
			memberId: member.id,
			role: member.role,
			condition: member.condition,
			isBot: member.isBot
		});
		this.#submitSystem('member.connection', { memberId: member.id, connected: true });
		this.#submitSystem('member.presence', { memberId: member.id, present: true });
	}

	/**
	 * A member's last local socket closed: disconnected for others at once, and gone once the
	 * grace has passed without a socket (a deadline in the room's state, so it fires wherever
	 * and whenever the room is loaded — also after this replica is gone).
	 */
	#memberDisconnected(actor: CommandActor): void {
		const memberId = this.#model.memberOf(this.#state, actor);
		if (!memberId || this.#isConnectedAnywhere(memberId)) return;
		this.#submitDisconnect(memberId);
	}

	#submitDisconnect(memberId: string): void {
		const absentAt = Math.round(this.#deps.now() + this.#deps.presenceGraceMs);
		this.#submitSystem('member.connection', { memberId, connected: false, absentAt });
	}

	/**
	 * Members who are connected nowhere but whom the state still shows connected (their replica
	 * died before it could say they left), or who are disconnected without an absence deadline,
	 * are disconnected from now: the grace starts, then their stage's dropout policy acts.
	 */
	#disconnectUnseen(memberIds: Iterable<string>): void {
		if (this.#disposed || this.#model.kind !== 'study') return;
		const members = (this.#state as StudyRoomShell).study.members;
		for (const memberId of memberIds) {
			const member = members[memberId];
			if (!member || member.outcome !== null || !member.present) continue;
			if (this.#isConnectedAnywhere(memberId)) continue;
			if (member.connected || (member.absentAt ?? null) === null) this.#submitDisconnect(memberId);
		}
	}

	/** After a load, once other replicas had time to say who they hold: see #disconnectUnseen. */
	#reconcilePresence(): void {
		this.#reconcileTimer = undefined;
		const members = (this.#state as StudyRoomShell).study?.members ?? {};
		this.#disconnectUnseen(Object.keys(members));
	}

	/**
	 * A member with a socket here whom the log shows disconnected (another replica, loading the
	 * room, could not see this one in time) is connected again, so no deadline acts on them.
	 */
	#restoreLocalConnections(fresh: RoomEvent[]): void {
		for (const event of fresh) {
			if (event.name !== 'member.connection') continue;
			const { memberId, connected } = event.payload as { memberId: string; connected: boolean };
			if (connected || !this.#localActors.has(memberId)) continue;
			const member = (this.#state as StudyRoomShell).study.members[memberId];
			if (member && !member.connected) {
				this.#submitSystem('member.connection', { memberId, connected: true });
				if (!member.present) this.#submitSystem('member.presence', { memberId, present: true });
			}
		}
	}

	/** Stops this replica's timers for the room (unload, shutdown). */
	dispose(): void {
		this.#disposed = true;
		clearTimeout(this.#wakeupTimer);
		clearTimeout(this.#reconcileTimer);
		clearInterval(this.#metricTimer);
		this.#metricTimer = undefined;
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
			case 'sig':
				this.ingestSignals(message.actor, message.samples, false);
				return;
		}
	}

	/** Relays an ephemeral message to local members and other replicas; nothing is stored. */
	sendEphemeral(member: Connection, kind: string, data: unknown): void {
		const from = member.auth.actor.id;
		this.#deps.transport.publish(this.#topic, frame({ type: 'ephemeral', from, kind, data }));
		this.#deps.bus.publish(this.#topic, JSON.stringify({ k: 'eph', from, kind, data }));
	}

	// --- Signals: the live group metric ------------------------------------------------------

	/**
	 * Feeds a member's signal telemetry (already queued for storage by the caller) to the
	 * room's aggregator, and relays it to other replicas unless it came from one. Samples of
	 * other kinds, from non-members, or invalid, are ignored here (storage is not affected).
	 */
	ingestSignals(actor: CommandActor, samples: TelemetrySample[], relay = true): void {
		if (!this.#signals || this.#disposed) return;
		const memberId = this.#model.memberOf(this.#state, actor);
		if (!memberId) return;
		const now = this.#deps.now();
		const signals = samples.filter((sample) => {
			const signal = toSignalSample(sample, now);
			if (signal) this.#signals!.record(memberId, sample.id, signal);
			return signal !== undefined;
		});
		if (relay && signals.length > 0) {
			const message: BusRoomMessage = { k: 'sig', actor, samples: signals };
			this.#deps.bus.publish(this.#topic, JSON.stringify(message));
		}
	}

	/**
	 * Hands a member's telemetry (already queued for storage) to the live monitors: the sync and
	 * A/V quality samples arrive only on the replica that has the member's socket.
	 */
	reportTelemetry(actor: CommandActor, samples: TelemetrySample[]): void {
		if (!this.#study || !this.#deps.monitor || this.#disposed) return;
		const memberId = this.#model.memberOf(this.#state, actor);
		if (memberId) this.#deps.monitor.telemetry(this.#study.studyId, this.id, memberId, samples);
	}

	/** Runs the metric timer exactly while the room is on a running `group_metric` stage. */
	#syncMetricTimer(): void {
		const running = !this.#disposed && this.#model.metricStage(this.#state) !== null;
		if (running && !this.#metricTimer) {
			this.#metricTimer = setInterval(() => this.#publishMetric(), METRIC_INTERVAL_MS);
			this.#metricTimer.unref?.();
		} else if (!running && this.#metricTimer) {
			clearInterval(this.#metricTimer);
			this.#metricTimer = undefined;
		}
	}

	/**
	 * Sends the metric to this replica's sockets only: every replica with the room loaded gets
	 * all samples over the bus and computes the same value, so relaying it would duplicate it.
	 */
	#publishMetric(): void {
		const running = this.#model.metricStage(this.#state);
		if (!running || !this.#signals || this.#members.size === 0) return;
		try {
			const data = this.#signals.compute(running.stage, running.memberIds);
			this.#deps.transport.publish(
				this.#topic,
				frame({ type: 'ephemeral', from: 'system', kind: 'metric', data })
			);
		} catch (error) {
			logFailure(this.id, 'metric')(error);
		}
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

	/**
	 * Periodic: re-announce, forget silent replicas (they may have died) — and their members
	 * who are connected nowhere else are disconnected from now, so their absence deadline runs.
	 */
	refreshPresence(): void {
		const cutoff = this.#deps.now() - PRESENCE_TTL_MS;
		const orphaned: string[] = [];
		for (const [replica, entry] of this.#remotePresence) {
			if (entry.at >= cutoff) continue;
			this.#remotePresence.delete(replica);
			orphaned.push(...entry.actors);
		}
		if (orphaned.length > 0) this.#disconnectUnseen(orphaned);
		this.#announcePresence();
	}

	/** Asks other replicas to announce their members (when this replica activates the room). */
	greet(): void {
		this.#deps.bus.publish(this.#topic, JSON.stringify({ k: 'hello' }));
	}

	/** The actors connected to the room on any replica, sorted (what `presence` lists). */
	presentActors(): string[] {
		const actors = new Set(this.#localActors.keys());
		for (const entry of this.#remotePresence.values())
			for (const actor of entry.actors) actors.add(actor);
		return [...actors].sort();
	}

	#presenceFrame(): string {
		return frame({ type: 'presence', actors: this.presentActors() });
	}

	#publishPresence(): boolean {
		const next = this.#presenceFrame();
		if (next === this.#lastPresenceFrame) return false;
		this.#lastPresenceFrame = next;
		this.#deps.transport.publish(this.#topic, next);
		return true;
	}
}
