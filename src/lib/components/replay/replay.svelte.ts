/**
 * The replay page's scrubber: where in the room's log the researcher is (`position` = events
 * folded so far), playback through the log at a chosen speed, and the room's state at that
 * point, folded with the reducer through a checkpointed index so a jump anywhere stays cheap.
 */
import type { RoomEvent } from '$lib/protocol';
import type { StudyRoomState } from '$lib/room/study';
import {
	buildTimeline,
	describeMoment,
	ReplayIndex,
	type RoomMoment,
	type TimelineEntry
} from '$lib/room/study/timeline';

/** How often playback moves the cursor (ms of wall time). */
const PLAY_TICK_MS = 100;
/** Speeds offered: real time, and faster for long sessions. */
export const PLAYBACK_SPEEDS = [1, 5, 20, 60] as const;

export type ReplayInput = {
	initial: StudyRoomState;
	events: RoomEvent[];
	startedAt: number;
	labels: Record<string, string>;
	users: Record<string, string>;
};

export class RoomReplayScrubber {
	readonly entries: TimelineEntry[];
	readonly #index: ReplayIndex;
	readonly #labels: Record<string, string>;
	#position = $state(0);
	#playing = $state(false);
	#speed = $state<number>(PLAYBACK_SPEEDS[1]);
	/** Session time the playback has reached (ms since the start). */
	#cursorMs = 0;
	#timer: ReturnType<typeof setInterval> | null = null;

	constructor(input: ReplayInput) {
		this.entries = buildTimeline(input.events, input.initial.definition, {
			startedAt: input.startedAt,
			names: { members: input.labels, users: input.users }
		});
		this.#index = new ReplayIndex(input.initial, input.events);
		this.#labels = input.labels;
	}

	/** Events folded: 0 is the room as formed, `length` the end of the log. */
	get position(): number {
		return this.#position;
	}

	get length(): number {
		return this.entries.length;
	}

	get playing(): boolean {
		return this.#playing;
	}

	get speed(): number {
		return this.#speed;
	}

	/** The last event folded, or null at the start. */
	get current(): TimelineEntry | null {
		return this.entries[this.#position - 1] ?? null;
	}

	/** Session time at the cursor, ms since the room started. */
	get elapsedMs(): number {
		return this.current?.onsetMs ?? 0;
	}

	/** The room as it was right after the current event. */
	get moment(): RoomMoment {
		return describeMoment(this.#index.stateAfter(this.#position), this.#labels);
	}

	/** The raw state at the cursor (for details the moment summary leaves out). */
	get state(): StudyRoomState {
		return this.#index.stateAfter(this.#position);
	}

	/** Moves to `position` (clamped); playback continues from there. */
	seek(position: number): void {
		this.#position = Math.max(0, Math.min(Math.round(position), this.entries.length));
		this.#cursorMs = this.elapsedMs;
	}

	step(delta: number): void {
		this.pause();
		this.seek(this.#position + delta);
	}

	setSpeed(speed: number): void {
		if ((PLAYBACK_SPEEDS as readonly number[]).includes(speed)) this.#speed = speed;
	}

	/** Plays the log forward in session time at the chosen speed, from the cursor. */
	play(): void {
		if (this.#playing) return;
		if (this.#position >= this.entries.length) this.seek(0);
		this.#playing = true;
		this.#cursorMs = this.elapsedMs;
		this.#timer = setInterval(() => this.#tick(), PLAY_TICK_MS);
	}

	pause(): void {
		this.#playing = false;
		if (this.#timer !== null) clearInterval(this.#timer);
		this.#timer = null;
	}

	toggle(): void {
		if (this.#playing) this.pause();
		else this.play();
	}

	/** Stops the timer; call when the page goes away. */
	destroy(): void {
		this.pause();
	}

	#tick(): void {
		this.#cursorMs += PLAY_TICK_MS * this.#speed;
		let next = this.#position;
		while (next < this.entries.length && this.entries[next]!.onsetMs <= this.#cursorMs) next++;
		this.#position = next;
		if (next >= this.entries.length) this.pause();
	}
}
