/**
 * A participant's live study room: RoomClient on `/s/<slug>/realtime/<roomId>` (the study
 * cookie authenticates the socket), with the member view the server sends (§8a of
 * docs/PROTOCOL.md) as runes, and the member commands as methods that settle on the ack.
 *
 * Server time for countdowns and the synchronized video comes from clock pings (`ping`/`pong`,
 * NTP-style) through `ServerClock`: a burst when the socket opens, then one a second, filtered
 * by `$lib/sync`'s clock sync. Until the first good pong, the `serverTime` of `joined` is the
 * rough estimate.
 */
import { createContext } from 'svelte';
import type { MemberView } from '../room/study';
import type { GroupMetricData } from '../protocol';
import { buildStudySocketUrl } from './study-socket-url';
import { MemberCommands, type CommandResult, type RefusalNotice } from './member-commands';
import { RoomClient, type RoomClientOptions, type RoomStatus } from './room-client';
import { ServerClock } from './server-clock';
import type { TelemetryInput } from './telemetry-queue';

export type StudyRoomOptions = Pick<RoomClientOptions, 'WebSocket' | 'heartbeatMs'> & {
	slug: string;
	roomId: string;
	/** The page origin (`location.origin`). */
	origin: string;
};

export type { CommandResult, RefusalNotice } from './member-commands';

/** The client clock pings are measured with (RoomClient's default). */
function clientNow(): number {
	return performance.timeOrigin + performance.now();
}

/** Reactive state of one participant's study room. */
export class StudyRoom {
	#status = $state<RoomStatus>('closed');
	#pending = $state(0);
	#view = $state.raw<MemberView | null>(null);
	#viewSeq = $state(0);
	/** The `joined` estimate (server time in the frame minus our clock), until pings answer. */
	#joinedOffsetMs: number | null = null;
	#metric = $state<GroupMetricData | null>(null);
	#refusals = $state.raw<readonly RefusalNotice[]>([]);
	readonly #client: RoomClient;
	readonly #clock: ServerClock;
	readonly #commands: MemberCommands;

	constructor(options: StudyRoomOptions) {
		this.#client = new RoomClient({
			url: () => buildStudySocketUrl(options.origin, options.slug, options.roomId),
			WebSocket: options.WebSocket,
			heartbeatMs: options.heartbeatMs,
			onStatus: (status) => {
				this.#status = status;
				this.#pending = this.#client.pending;
				if (status === 'open') this.#clock.start();
				else this.#clock.stop();
			},
			onJoined: (info) => {
				this.#joinedOffsetMs = info.serverTime - clientNow();
			},
			onEphemeral: (message) => {
				// The live group metric, published by the server each second on a group_metric stage.
				if (message.from === 'system' && message.kind === 'metric') {
					this.#metric = message.data as GroupMetricData;
				}
			},
			onView: (message) => {
				// Views arrive in seq order on one socket; after a reconnect the seq starts over
				// from the replay, so only a view from an older seq on the same socket is stale.
				if (message.scope !== 'member') return;
				this.#view = message.view as MemberView | null;
				this.#viewSeq = message.seq;
			}
		});
		this.#clock = new ServerClock({ ping: () => this.#client.ping(), now: clientNow });
		this.#commands = new MemberCommands({
			send: (name, payload) => this.#client.send(name, payload),
			onNotices: (notices) => (this.#refusals = notices)
		});
		this.#client.connect();
	}

	get status(): RoomStatus {
		return this.#status;
	}
	/** Commands sent and not yet acknowledged. */
	get pending(): number {
		return this.#pending;
	}
	/** The latest live group metric (group_metric stages), or null. */
	get metric(): GroupMetricData | null {
		return this.#metric;
	}
	/** The latest member view, or null before the first one. */
	get view(): MemberView | null {
		return this.#view;
	}
	get viewSeq(): number {
		return this.#viewSeq;
	}
	/**
	 * The participant's refused commands, for the room page to show until dismissed: whether or
	 * not the component that sent one is still there (a resend refused after the stage ended).
	 */
	get refusals(): readonly RefusalNotice[] {
		return this.#refusals;
	}
	dismissRefusal(id: number): void {
		this.#commands.dismiss(id);
	}
	/** The clock estimate (offset, drift, uncertainty) from pings; `synced: false` before. */
	get clock(): ServerClock {
		return this.#clock;
	}

	/**
	 * The server's clock at client time `at` (now by default), in ms since the epoch: the ping
	 * estimate, else the `joined` one, else our own clock. Not reactive: read it on a tick.
	 */
	serverNow(at = clientNow()): number {
		return this.#clock.serverNow(at) ?? at + (this.#joinedOffsetMs ?? 0);
	}

	/** Submits the current stage's answer; "already submitted" counts as saved. */
	submit(stageId: string, response: unknown): Promise<CommandResult> {
		return this.#run('stage.submit', { stageId, response }, ['already_submitted']);
	}

	pick(stageId: string, option: string): Promise<CommandResult> {
		return this.#run('group_choice.pick', { stageId, option }, ['no_change']);
	}

	declineConsent(stageId: string): Promise<CommandResult> {
		return this.#run('consent.decline', { stageId }, ['member_finished']);
	}

	sendChat(stageId: string, text: string): Promise<CommandResult> {
		return this.#run('chat.send', { stageId, text }, []);
	}

	setGoal(stageId: string, text: string): Promise<CommandResult> {
		return this.#run('goal.set', { stageId, text }, ['no_change']);
	}

	/**
	 * Sends a device's R-R intervals as `signal.rr` telemetry: queued through outages and
	 * stored once by id (PROTOCOL.md §8b). The room's group metric is computed from them.
	 */
	sendHeartBeats(intervalsMs: readonly number[], at: number): void {
		this.#client.sendTelemetry([{ kind: 'signal.rr', t: at, value: [...intervalsMs] }]);
	}

	/** The player has the video stage's media buffered (the start waits for everyone). */
	reportBuffered(stageId: string): Promise<CommandResult> {
		return this.#run('media.buffered', { stageId }, ['no_change']);
	}

	/** Play, pause or seek the stage's video (the experimenter, or a control role). */
	controlPlayback(
		stageId: string,
		control: { action: 'play' } | { action: 'pause' } | { action: 'seek'; mediaTime: number }
	): Promise<CommandResult> {
		return this.#run('playback.control', { stageId, ...control }, ['no_change']);
	}

	/** Queues telemetry samples (ratings, sync reports): batched, resent, stored once by id. */
	sendTelemetry(samples: readonly TelemetryInput[]): void {
		this.#client.sendTelemetry(samples);
	}

	/**
	 * After `replaced` (the study was opened in another tab or window): connects again, which
	 * makes this tab the one in use and shows the other one the same choice.
	 */
	continueHere(): void {
		this.#client.connect();
	}

	/** Closes the socket for good; call from the owning component's teardown. */
	destroy(): void {
		this.#clock.stop();
		this.#client.close();
	}

	async #run(name: string, payload: unknown, alreadyDone: string[]): Promise<CommandResult> {
		const result = this.#commands.run(name, payload, alreadyDone);
		this.#pending = this.#client.pending;
		try {
			return await result;
		} finally {
			this.#pending = this.#client.pending;
		}
	}
}

const [getContext, setContext] = createContext<StudyRoom>();

/** Makes `room` available to the calling component's descendants. */
export function setStudyRoom(room: StudyRoom): StudyRoom {
	return setContext(room);
}

/** The study room of the nearest ancestor that called {@link setStudyRoom}. */
export function getStudyRoom(): StudyRoom {
	return getContext();
}
