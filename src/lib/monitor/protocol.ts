/**
 * The study monitor's wire contract (docs/MONITOR.md): one WebSocket per open dashboard,
 * `/realtime/studies/<studyId>/monitor`, on which the server sends a snapshot and then deltas.
 * Nothing here carries a participant's answers: the monitor shows where people are, not what
 * they said. Shared by the server (which builds the frames) and the browser (which folds them).
 */
import * as v from 'valibot';
import type { AdvanceRule, Outcome, SessionMode, StageType } from '../study';
import type { SyncPhase } from '../sync/quality';

/** Bumped when a frame changes meaning; the page then reloads. */
export const MONITOR_PROTOCOL_VERSION = 1;

/** A member's latest synchronized-video figures (from `sync.quality` telemetry). */
export type MonitorSyncQuality = {
	/** Estimated server − client clock, ms (the latest sample). */
	offsetMs: number;
	/** Median |error| over the recent steady-state samples (locked, correcting); null: none yet. */
	errorP50Ms: number | null;
	rttMs: number;
	uncertaintyMs: number;
	phase: SyncPhase;
	/** Server time the sample arrived. */
	at: number;
};

export type MonitorAvConnection = 'excellent' | 'good' | 'poor' | 'lost' | 'unknown';

/** A member's latest conversation figures (from `av.quality` telemetry). */
export type MonitorAvQuality = {
	connection: MonitorAvConnection;
	/** Packets lost over the last report interval, all tracks; null when no track reported it. */
	packetsLost: number | null;
	/** Largest jitter over the tracks, ms. */
	jitterMs: number | null;
	sendKbps: number | null;
	receiveKbps: number | null;
	at: number;
};

export type MonitorMemberQuality = { sync: MonitorSyncQuality | null; av: MonitorAvQuality | null };

export type MonitorMember = {
	/** The pseudonymous participant id. */
	id: string;
	/** "Member 2": the position in the room, as participants see each other. */
	label: string;
	role: string | null;
	condition: string | null;
	isBot: boolean;
	/** A socket is open right now. */
	connected: boolean;
	/** Still in the room (false once a disconnect outlasted the grace period). */
	present: boolean;
	/** Submitted the room's current stage. */
	submitted: boolean;
	outcome: Outcome | null;
	quality: MonitorMemberQuality;
};

export type MonitorStage = {
	index: number;
	count: number;
	id: string | null;
	title: string;
	type: StageType | null;
	advance: AdvanceRule | null;
	startedAt: number;
	/** Absolute server ms at which the stage's timer fires; null: none. */
	deadline: number | null;
};

/** One room as the monitor shows it: a card in the grid (running) or a row (finished). */
export type MonitorRoom = {
	id: string;
	version: number;
	/** The group's condition (every member of a room shares it); null when the study has none. */
	condition: string | null;
	formedAt: number;
	/** The seq of the last event folded in. */
	head: number;
	/** Server time of the last event folded in: what the monitor's latency is measured from. */
	updatedAt: number;
	stage: MonitorStage;
	/** Present members still in, and how many of them submitted the current stage. */
	progress: { submitted: number; of: number };
	paused: null | {
		reason: 'experimenter' | 'dropout';
		since: number;
		resumeDeadline: number | null;
		missing: number;
	};
	finished: null | { at: number; outcome: Outcome };
	members: MonitorMember[];
};

export type MonitorWaiter = {
	id: string;
	version: number;
	waitingSince: number;
	/** The waiting page's last heartbeat; a waiter unseen for long is a ghost about to be dropped. */
	lastSeenAt: number;
	isBot: boolean;
};

/** The waiting room of one study version: who is needed and how long it may take. */
export type MonitorWaitingVersion = {
	version: number;
	mode: SessionMode;
	waiting: number;
	/** Members a group needs (matched), else null. */
	groupSize: number | null;
	/** Expected wait until the next group forms or cohort starts, ms; null: not enough data. */
	expectedWaitMs: number | null;
};

export type MonitorWaiting = { waiters: MonitorWaiter[]; versions: MonitorWaitingVersion[] };

/** Participants with an outcome, per outcome and condition (null: lobby timeouts and the like). */
export type OutcomeCount = {
	outcome: Outcome;
	condition: string | null;
	participants: number;
	/** Of those, bots (pilots). */
	bots: number;
};

export type MonitorServerMessage =
	/** The whole picture: sent first, and again after `refresh`. */
	| {
			type: 'snapshot';
			v: number;
			/** Server time the frame was built. */
			at: number;
			/** Running rooms and the most recently finished ones. */
			rooms: MonitorRoom[];
			waiting: MonitorWaiting;
			counts: OutcomeCount[];
	  }
	/** Rooms that changed (or appeared), each whole: replace by id. */
	| { type: 'rooms'; at: number; rooms: MonitorRoom[] }
	| { type: 'waiting'; at: number; waiting: MonitorWaiting }
	| { type: 'counts'; at: number; counts: OutcomeCount[] }
	| { type: 'error'; code: 'invalid_message'; message: string };

/** The one thing a dashboard asks: the whole picture again (after it noticed something odd). */
export const MonitorClientMessage = v.variant('type', [
	v.strictObject({ type: v.literal('refresh') })
]);
export type MonitorClientMessage = v.InferOutput<typeof MonitorClientMessage>;

/** Parses one frame from a dashboard. */
export function parseMonitorClientMessage(
	frame: string
): { ok: true; message: MonitorClientMessage } | { ok: false; message: string } {
	let data: unknown;
	try {
		data = JSON.parse(frame);
	} catch {
		return { ok: false, message: 'The frame is not valid JSON.' };
	}
	const parsed = v.safeParse(MonitorClientMessage, data);
	return parsed.success
		? { ok: true, message: parsed.output }
		: { ok: false, message: `Invalid message: ${parsed.issues[0].message}` };
}

/** The monitor socket's path for a study. */
export const monitorSocketPath = (studyId: string) =>
	`/realtime/studies/${encodeURIComponent(studyId)}/monitor`;

/** `ws(s)://host/realtime/studies/<id>/monitor` for a page at `origin`. */
export function buildMonitorSocketUrl(origin: string, studyId: string): string {
	const url = new URL(monitorSocketPath(studyId), origin);
	url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
	return url.toString();
}
