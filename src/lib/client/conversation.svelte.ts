/**
 * One participant's side of a `conversation` stage (issue 7): a LiveKit room joined with a
 * token from `POST /s/<slug>/livekit/token`, the microphone and camera published as the stage
 * says (never for a listener role), everyone's tracks attached to the page's tiles, and the
 * connection's state in words a participant understands.
 *
 * This is media only. LiveKit's own resume and full reconnect, and the retries here after it
 * gave up, never send anything to the study room: the experiment's state belongs to the server.
 * About every 5 s the connection's quality is handed to `onQuality` (the `av.quality`
 * telemetry value), from WebRTC stats; missing stats leave fields out, never throw.
 */
import {
	ConnectionQuality,
	ConnectionState,
	createLocalAudioTrack,
	createLocalVideoTrack,
	DisconnectReason,
	MediaDeviceFailure,
	Room,
	RoomEvent,
	Track,
	type LocalTrack,
	type Participant
} from 'livekit-client';
import {
	summarizeTrackStats,
	type AvConnectionQuality,
	type AvQualityReport,
	type AvTrackQuality,
	type Counters,
	type StatsEntry
} from './av-stats';
import {
	CONVERSATION_PROBLEMS,
	computeRetryDelay,
	readGrantResponse,
	type Grant,
	type GrantResult
} from './conversation-grant';
import { TimerSlot, systemTimers } from './timers';

export type { AvConnectionQuality, AvQualityReport, AvTrackQuality } from './av-stats';
export { CONVERSATION_PROBLEMS } from './conversation-grant';

export type ConversationStatus = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'ended';

/** One tile: a member of the LiveKit room who speaks (listeners are audience, not tiles). */
export type ConversationParticipant = {
	identity: string;
	/** The name the token gave them, if any; the page labels tiles itself otherwise. */
	name: string | null;
	isLocal: boolean;
	isSpeaking: boolean;
	/** An unmuted audio track is there (subscribed, or our own published one). */
	hasAudio: boolean;
	hasVideo: boolean;
	quality: AvConnectionQuality;
};

export type ConversationOptions = {
	slug: string;
	stageId: string;
	/** What the stage publishes. */
	audio: boolean;
	video: boolean;
	/** False for a listener role: subscribe only, never open the camera or microphone. */
	canPublish: boolean;
	/** About every 5 s: the `av.quality` telemetry value. */
	onQuality: (report: AvQualityReport) => void;
};

// A few quick tries cover a LiveKit restart or a network hiccup; after that a participant is
// better told than left watching a spinner (they can still try again).
const CONNECT_ATTEMPTS = 4;
// Tokens live 10 minutes: a fresh one a minute before, so a reconnect while our own server is
// briefly unreachable still has a valid one.
const TOKEN_REFRESH_LEAD_MS = 60_000;
const TOKEN_REFRESH_MIN_MS = 10_000;
/** A held token with less than this left is not worth trying. */
const TOKEN_MIN_LEFT_MS = 15_000;
const QUALITY_INTERVAL_MS = 5_000;
// An unreachable server should read "failed" within seconds, not LiveKit's default 15 s a try.
const WEBSOCKET_TIMEOUT_MS = 8_000;
const PEER_CONNECTION_TIMEOUT_MS = 10_000;
/** The local tile's key until the token tells us our identity. */
const LOCAL_PLACEHOLDER = 'local';

/** The participant-facing message for a camera/microphone error (`getUserMedia`'s). */
export function describeDeviceError(error: unknown): string {
	switch (MediaDeviceFailure.getFailure(error)) {
		case MediaDeviceFailure.PermissionDenied:
			return CONVERSATION_PROBLEMS.denied;
		case MediaDeviceFailure.NotFound:
			return CONVERSATION_PROBLEMS.notFound;
		case MediaDeviceFailure.DeviceInUse:
			return CONVERSATION_PROBLEMS.inUse;
		default:
			return CONVERSATION_PROBLEMS.device;
	}
}

function toQuality(quality: ConnectionQuality | undefined): AvConnectionQuality {
	switch (quality) {
		case ConnectionQuality.Excellent:
			return 'excellent';
		case ConnectionQuality.Good:
			return 'good';
		case ConnectionQuality.Poor:
			return 'poor';
		case ConnectionQuality.Lost:
			return 'lost';
		default:
			return 'unknown';
	}
}

function hasLiveTrack(publications: Iterable<{ track?: unknown; isMuted: boolean }>): boolean {
	for (const publication of publications) {
		if (publication.track && !publication.isMuted) return true;
	}
	return false;
}

/** Reactive state of one participant's conversation; create per stage, destroy when it ends. */
export class Conversation {
	#status = $state<ConversationStatus>('connecting');
	#connectionProblem = $state<string | null>(null);
	#deviceProblem = $state<string | null>(null);
	#participants = $state.raw<ConversationParticipant[]>([]);
	#muted = $state(false);
	#cameraOff = $state(false);
	/** The server's token forbids publishing, whatever the page thought the role was. */
	#publishDenied = $state(false);
	#needsClick = $state(false);
	/** 1-based try of the current connection, for the status line. */
	#attempt = $state(0);

	readonly #options: ConversationOptions;
	#room: Room | null = null;
	#grant: Grant | null = null;
	#localTracks = $state.raw<LocalTrack[]>([]);
	// Bookkeeping, not state: nothing renders from these two maps.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #elements = new Map<string, HTMLMediaElement>();
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	readonly #counters = new Map<string, Counters>();
	readonly #retryTimer = new TimerSlot(systemTimers);
	readonly #refreshTimer = new TimerSlot(systemTimers);
	readonly #qualityTimer: ReturnType<typeof setInterval>;
	/** Bumped per connection try: a slower, older try that settles late is ignored. */
	#generation = 0;
	/** Between `room.connect()` and its result: its own disconnect is the try failing. */
	#joining = false;
	#reporting = false;
	#destroyed = false;
	#publishing: Promise<void> = Promise.resolve();

	constructor(options: ConversationOptions) {
		this.#options = options;
		this.#qualityTimer = setInterval(() => void this.#reportQuality(), QUALITY_INTERVAL_MS);
		this.#refresh();
		void this.#start();
	}

	get status(): ConversationStatus {
		return this.#status;
	}
	/** What went wrong, in words for the participant; the connection's problem first. */
	get problem(): string | null {
		return this.#connectionProblem ?? this.#deviceProblem;
	}
	get participants(): ConversationParticipant[] {
		return this.#participants;
	}
	get muted(): boolean {
		return this.#muted;
	}
	get cameraOff(): boolean {
		return this.#cameraOff;
	}
	/** This member only listens: a listener role, or the token does not allow publishing. */
	get listening(): boolean {
		return !this.#options.canPublish || this.#publishDenied;
	}
	/** The browser blocked playing sound or video until a click: offer {@link startMedia}. */
	get needsClick(): boolean {
		return this.#needsClick;
	}
	/** Our microphone is open (toggleMute has something to mute). */
	get hasMicrophone(): boolean {
		return this.#localTrack(Track.Kind.Audio) !== undefined;
	}
	get hasCamera(): boolean {
		return this.#localTrack(Track.Kind.Video) !== undefined;
	}
	/** The current connection try (1 = the first) and how many there are before `failed`. */
	get attempt(): { current: number; of: number } {
		return { current: this.#attempt, of: CONNECT_ATTEMPTS };
	}

	/** Mutes or unmutes our microphone (nothing on a listener or a stage without audio). */
	async toggleMute(): Promise<void> {
		const track = this.#localTrack(Track.Kind.Audio);
		if (!track) return;
		const mute = !this.#muted;
		try {
			await (mute ? track.mute() : track.unmute());
			this.#muted = mute;
		} catch (error) {
			this.#deviceProblem = describeDeviceError(error);
		}
		this.#refresh();
	}

	/** Turns our camera off (the device light goes out) or on again. */
	async toggleCamera(): Promise<void> {
		const track = this.#localTrack(Track.Kind.Video);
		if (!track) return;
		const off = !this.#cameraOff;
		try {
			await (off ? track.mute() : track.unmute());
			this.#cameraOff = off;
		} catch (error) {
			this.#deviceProblem = describeDeviceError(error);
		}
		this.#refresh();
	}

	/**
	 * Shows `identity`'s tracks in `element` (a tile's `<video>`: their camera and, for others,
	 * their voice; our own tile gets the camera only) until the returned function is called.
	 * Tracks that arrive later are attached as they come. Usable as a Svelte attachment.
	 */
	attach(identity: string, element: HTMLMediaElement): () => void {
		this.#elements.set(identity, element);
		this.#attachTracks(identity);
		return () => {
			if (this.#elements.get(identity) === element) this.#elements.delete(identity);
			// Our own tile's key changes once the token names us: detach our tracks by element.
			for (const track of [...this.#localTracks, ...this.#tracksOf(identity)]) {
				track.detach(element);
			}
		};
	}

	/** After a click: lets the browser play the others' sound and video. */
	async startMedia(): Promise<void> {
		const room = this.#room;
		if (!room) return;
		await Promise.allSettled([room.startAudio(), room.startVideo()]);
		this.#needsClick = !room.canPlaybackAudio || !room.canPlaybackVideo;
	}

	/** After `failed`: another round of tries. */
	retry(): void {
		if (this.#destroyed || this.#status !== 'failed') return;
		this.#connectionProblem = null;
		this.#attempt = 0;
		void this.#connect();
	}

	/** Leaves the LiveKit room and releases the camera and microphone. Idempotent. */
	destroy(): void {
		if (this.#destroyed) return;
		this.#destroyed = true;
		this.#generation++;
		clearInterval(this.#qualityTimer);
		this.#retryTimer.clear();
		this.#refreshTimer.clear();
		this.#closeRoom();
		for (const track of this.#localTracks) track.stop();
		this.#localTracks = [];
		this.#elements.clear();
		this.#status = 'ended';
	}

	/** Devices and connection side by side: a slow permission prompt does not hold up listening. */
	async #start(): Promise<void> {
		await Promise.all([this.#options.canPublish ? this.#openDevices() : null, this.#connect()]);
	}

	/** Our microphone and camera, each on its own: a missing camera still leaves the voice. */
	async #openDevices(): Promise<void> {
		const wanted: (() => Promise<LocalTrack>)[] = [];
		if (this.#options.audio) wanted.push(() => createLocalAudioTrack());
		if (this.#options.video) {
			wanted.push(() => createLocalVideoTrack({ resolution: { width: 640, height: 480 } }));
		}
		const results = await Promise.allSettled(wanted.map((open) => open()));
		for (const result of results) {
			if (result.status === 'fulfilled') {
				if (this.#destroyed) result.value.stop();
				else this.#localTracks = [...this.#localTracks, result.value];
			} else if (!this.#deviceProblem) {
				this.#deviceProblem = describeDeviceError(result.reason);
			}
		}
		if (this.#destroyed) return;
		this.#refresh();
		this.#attachTracks(this.#localIdentity());
		// Joined before the devices were ready: publish them now.
		if (this.#room && this.#status === 'connected') await this.#publish(this.#room);
	}

	/** One connection try: a fresh token, a new Room, our tracks published once joined. */
	async #connect(): Promise<void> {
		const generation = ++this.#generation;
		this.#retryTimer.clear();
		this.#attempt++;
		if (this.#status !== 'connecting') this.#status = 'reconnecting';
		const granted = await this.#fetchGrant();
		if (generation !== this.#generation) return;
		if (!granted.ok) {
			if (granted.reason === 'stage_over') this.#end(null);
			else if (granted.reason === 'fatal') this.#fail(granted.message);
			else this.#retryOrFail(granted.message);
			return;
		}
		const grant = granted.grant;
		const room = new Room({
			adaptiveStream: true,
			dynacast: true,
			// Our tracks outlive a room: a reconnect publishes the same ones again.
			stopLocalTrackOnUnpublish: false
		});
		this.#bind(room);
		this.#room = room;
		this.#joining = true;
		try {
			await room.connect(grant.url, grant.token, {
				websocketTimeout: WEBSOCKET_TIMEOUT_MS,
				peerConnectionTimeout: PEER_CONNECTION_TIMEOUT_MS
			});
		} catch {
			if (generation !== this.#generation) return;
			this.#closeRoom();
			this.#retryOrFail(CONVERSATION_PROBLEMS.unreachable);
			return;
		} finally {
			if (generation === this.#generation) this.#joining = false;
		}
		if (generation !== this.#generation) {
			void room.disconnect();
			return;
		}
		this.#status = 'connected';
		this.#connectionProblem = null;
		this.#attempt = 0;
		this.#needsClick = !room.canPlaybackAudio || !room.canPlaybackVideo;
		await this.#publish(room);
		this.#refresh();
		for (const identity of this.#elements.keys()) this.#attachTracks(identity);
	}

	/** A fresh token; the one held still serves when our own server cannot be reached. */
	async #fetchGrant(): Promise<GrantResult> {
		const held = this.#grant;
		const result = await this.#requestGrant();
		if (result.ok) this.#takeGrant(result.grant);
		else if (
			result.reason === 'retry' &&
			held &&
			held.expiresAtMs - Date.now() > TOKEN_MIN_LEFT_MS
		) {
			return { ok: true, grant: held };
		}
		return result;
	}

	async #requestGrant(): Promise<GrantResult> {
		try {
			const response = await fetch(`/s/${encodeURIComponent(this.#options.slug)}/livekit/token`, {
				method: 'POST',
				headers: { accept: 'application/json' }
			});
			return await readGrantResponse(response);
		} catch {
			return { ok: false, reason: 'retry', message: CONVERSATION_PROBLEMS.unreachable };
		}
	}

	/** Holds `grant` for the next connection and fetches its successor before it expires. */
	#takeGrant(grant: Grant): void {
		this.#grant = grant;
		this.#scheduleRefresh(grant);
	}

	#scheduleRefresh(grant: Grant): void {
		const wait = Math.max(
			TOKEN_REFRESH_MIN_MS,
			grant.expiresAtMs - Date.now() - TOKEN_REFRESH_LEAD_MS
		);
		this.#refreshTimer.start(wait, () => {
			void this.#requestGrant().then((result) => {
				if (this.#destroyed || this.#status === 'ended' || this.#grant !== grant) return;
				if (result.ok) this.#takeGrant(result.grant);
				// Our server is away for a moment: again soon, while the held token is still good.
				// (Stage over or refused: the next connection asks anyway.)
				else if (result.reason === 'retry' && grant.expiresAtMs > Date.now()) {
					this.#scheduleRefresh(grant);
				}
			});
		});
	}

	/**
	 * Publishes our tracks not yet in `room`, as far as the token allows. Calls queue up: the
	 * join and the devices arriving may both ask, and a track must not be published twice.
	 */
	#publish(room: Room): Promise<void> {
		this.#publishing = this.#publishing.then(() => this.#publishMissing(room));
		return this.#publishing;
	}

	async #publishMissing(room: Room): Promise<void> {
		if (!this.#options.canPublish || room !== this.#room) return;
		this.#publishDenied = room.localParticipant.permissions?.canPublish === false;
		if (this.#publishDenied) return;
		for (const track of this.#localTracks) {
			if (room.localParticipant.getTrackPublication(track.source)) continue;
			try {
				await room.localParticipant.publishTrack(track);
			} catch {
				// The others just do not get this track; a device error shows through MediaDevicesError.
				if (room !== this.#room) return;
			}
		}
	}

	#bind(room: Room): void {
		const mine = () => room === this.#room && !this.#destroyed;
		const refresh = () => {
			if (mine()) this.#refresh();
		};
		room
			.on(RoomEvent.ConnectionStateChanged, (state) => {
				if (!mine() || this.#joining) return;
				// A signal-only resume keeps the media flowing: nothing to tell the participant.
				if (state === ConnectionState.Reconnecting) this.#status = 'reconnecting';
				if (state === ConnectionState.Connected) this.#status = 'connected';
			})
			.on(RoomEvent.Disconnected, (reason) => {
				if (!mine() || this.#joining) return;
				this.#closeRoom();
				this.#onDisconnected(reason);
			})
			.on(RoomEvent.TrackSubscribed, (_track, _publication, participant) => {
				if (!mine()) return;
				this.#attachTracks(participant.identity);
				this.#refresh();
			})
			.on(RoomEvent.TrackUnsubscribed, (track) => {
				track.detach();
				refresh();
			})
			.on(RoomEvent.MediaDevicesError, (error) => {
				if (mine()) this.#deviceProblem = describeDeviceError(error);
			})
			.on(RoomEvent.AudioPlaybackStatusChanged, () => {
				if (mine()) this.#needsClick = !room.canPlaybackAudio || !room.canPlaybackVideo;
			})
			.on(RoomEvent.VideoPlaybackStatusChanged, () => {
				if (mine()) this.#needsClick = !room.canPlaybackAudio || !room.canPlaybackVideo;
			})
			.on(RoomEvent.ParticipantPermissionsChanged, (_previous, participant) => {
				if (mine() && participant.isLocal) void this.#publish(room).then(refresh);
				else refresh();
			});
		for (const event of [
			RoomEvent.ParticipantConnected,
			RoomEvent.ParticipantDisconnected,
			RoomEvent.ActiveSpeakersChanged,
			RoomEvent.ConnectionQualityChanged,
			RoomEvent.TrackPublished,
			RoomEvent.TrackUnpublished,
			RoomEvent.TrackMuted,
			RoomEvent.TrackUnmuted,
			RoomEvent.LocalTrackPublished,
			RoomEvent.LocalTrackUnpublished,
			RoomEvent.ParticipantNameChanged
		] as const) {
			room.on(event, refresh);
		}
	}

	/** LiveKit gave up on its own reconnect, or the server sent us away. */
	#onDisconnected(reason: DisconnectReason | undefined): void {
		switch (reason) {
			case DisconnectReason.DUPLICATE_IDENTITY:
				// Reconnecting here would throw the other tab out, and so on back and forth.
				this.#end(CONVERSATION_PROBLEMS.otherTab);
				return;
			case DisconnectReason.ROOM_DELETED:
			case DisconnectReason.ROOM_CLOSED:
			case DisconnectReason.PARTICIPANT_REMOVED:
				this.#end(null);
				return;
			default:
				this.#attempt = 0;
				this.#status = 'reconnecting';
				this.#retryOrFail(CONVERSATION_PROBLEMS.unreachable);
		}
	}

	#retryOrFail(message: string): void {
		if (this.#destroyed) return;
		if (this.#attempt >= CONNECT_ATTEMPTS) {
			this.#fail(message);
			return;
		}
		this.#status = 'reconnecting';
		this.#refresh();
		this.#retryTimer.start(computeRetryDelay(this.#attempt - 1), () => void this.#connect());
	}

	#fail(message: string): void {
		this.#status = 'failed';
		this.#connectionProblem = message;
		this.#refresh();
	}

	#end(message: string | null): void {
		this.#status = 'ended';
		this.#connectionProblem = message;
		this.#retryTimer.clear();
		this.#refreshTimer.clear();
		this.#closeRoom();
		this.#refresh();
	}

	#closeRoom(): void {
		const room = this.#room;
		this.#room = null;
		if (!room) return;
		room.removeAllListeners();
		void room.disconnect(false).catch(() => {});
		for (const participant of room.remoteParticipants.values()) {
			for (const publication of participant.trackPublications.values()) {
				publication.track?.detach();
			}
		}
	}

	#localIdentity(): string {
		return this.#grant?.identity ?? LOCAL_PLACEHOLDER;
	}

	#localTrack(kind: Track.Kind): LocalTrack | undefined {
		if (this.listening) return undefined;
		return this.#localTracks.find((track) => track.kind === kind);
	}

	/** Our camera for our own tile (never our voice); everyone's subscribed tracks for theirs. */
	#tracksOf(identity: string): Track[] {
		if (identity === this.#localIdentity()) {
			return this.#localTracks.filter((track) => track.kind === Track.Kind.Video);
		}
		const participant = this.#room?.remoteParticipants.get(identity);
		if (!participant) return [];
		const tracks: Track[] = [];
		for (const publication of participant.trackPublications.values()) {
			if (publication.track) tracks.push(publication.track);
		}
		return tracks;
	}

	#attachTracks(identity: string): void {
		const element = this.#elements.get(identity);
		if (!element) return;
		for (const track of this.#tracksOf(identity)) track.attach(element);
	}

	#refresh(): void {
		const room = this.#room;
		const tiles: ConversationParticipant[] = [];
		if (!this.listening) {
			const local = room?.localParticipant;
			tiles.push({
				identity: this.#localIdentity(),
				name: null,
				isLocal: true,
				isSpeaking: local?.isSpeaking ?? false,
				hasAudio: !this.#muted && this.#localTracks.some((t) => t.kind === Track.Kind.Audio),
				hasVideo: !this.#cameraOff && this.#localTracks.some((t) => t.kind === Track.Kind.Video),
				quality:
					room && this.#status === 'connected' ? toQuality(local?.connectionQuality) : 'unknown'
			});
		}
		for (const participant of room?.remoteParticipants.values() ?? []) {
			// Listeners are the audience: no tile for someone who may not speak.
			if (participant.permissions?.canPublish === false) continue;
			tiles.push(describeRemote(participant));
		}
		this.#participants = tiles;
	}

	/** The `av.quality` report: our connection's quality and each track's stats. */
	async #reportQuality(): Promise<void> {
		if (this.#destroyed || this.#reporting || this.#status === 'ended') return;
		this.#reporting = true;
		try {
			const room = this.#room;
			const connected = room !== null && this.#status === 'connected';
			const tracks: AvTrackQuality[] = [];
			if (connected) {
				for (const publication of room.localParticipant.trackPublications.values()) {
					if (publication.track) tracks.push(await this.#measure(publication.track, 'send'));
				}
				for (const participant of room.remoteParticipants.values()) {
					for (const publication of participant.trackPublications.values()) {
						if (publication.track) tracks.push(await this.#measure(publication.track, 'receive'));
					}
				}
			}
			if (this.#destroyed) return;
			this.#options.onQuality({
				stageId: this.#options.stageId,
				connectionQuality: connected
					? toQuality(room.localParticipant.connectionQuality)
					: this.#status === 'connecting'
						? 'unknown'
						: 'lost',
				tracks
			});
		} catch {
			// Quality is a side channel: a stats hiccup must never disturb the conversation.
		} finally {
			this.#reporting = false;
		}
	}

	async #measure(track: Track, direction: 'send' | 'receive'): Promise<AvTrackQuality> {
		const kind = track.kind === Track.Kind.Audio ? 'audio' : 'video';
		const key = `${direction}:${track.sid ?? track.mediaStreamTrack.id}`;
		let report: RTCStatsReport | undefined;
		try {
			report = await track.getRTCStatsReport();
		} catch {
			report = undefined;
		}
		if (!report) return { kind, direction };
		const entries: StatsEntry[] = [];
		report.forEach((stat: StatsEntry) => entries.push(stat));
		const { quality, counters } = summarizeTrackStats(
			entries,
			kind,
			direction,
			this.#counters.get(key)
		);
		if (counters) this.#counters.set(key, counters);
		return quality;
	}
}

function describeRemote(participant: Participant): ConversationParticipant {
	return {
		identity: participant.identity,
		name: participant.name || null,
		isLocal: false,
		isSpeaking: participant.isSpeaking,
		hasAudio: hasLiveTrack(participant.audioTrackPublications.values()),
		hasVideo: hasLiveTrack(participant.videoTrackPublications.values()),
		quality: toQuality(participant.connectionQuality)
	};
}
