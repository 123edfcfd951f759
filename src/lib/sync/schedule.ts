/**
 * The playback schedule the server holds for a synchronized video (issue 6): no participant is
 * the host, everyone steers to where the schedule says the media should be at a server time.
 * Pure and isomorphic; the valibot schema is the wire contract.
 */
import * as v from 'valibot';

/**
 * Slowest and fastest scheduled rates. The controller adds up to ±5% on top, which must stay in
 * the range where every browser still plays audio (Firefox mutes outside 0.25–4), and a study
 * needs no more than half or double speed.
 */
export const SCHEDULE_RATE_BOUNDS = { min: 0.5, max: 2 } as const;
/** Media positions beyond a day are no video a study plays: refused as absurd. */
export const MAX_MEDIA_TIME_S = 86_400;
/** Longest media id accepted on the wire. */
export const MAX_MEDIA_ID_LENGTH = 200;

const Seconds = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(MAX_MEDIA_TIME_S));

/** The wire form of a schedule: every number finite and in range. */
export const PlaybackScheduleSchema = v.strictObject({
	mediaId: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_MEDIA_ID_LENGTH)),
	playing: v.boolean(),
	/** Media position (s) at `anchorServerTime`. */
	anchorMediaTime: Seconds,
	/** Server clock, ms since the epoch (the Date range). */
	anchorServerTime: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(8.64e15)),
	rate: v.pipe(
		v.number(),
		v.finite(),
		v.minValue(SCHEDULE_RATE_BOUNDS.min),
		v.maxValue(SCHEDULE_RATE_BOUNDS.max)
	)
});

/**
 * Where the media should be: at `anchorMediaTime` at server time `anchorServerTime`, then
 * (when `playing`) advancing at `rate`. An anchor in the future means "start then".
 */
export type PlaybackSchedule = v.InferOutput<typeof PlaybackScheduleSchema>;

/** Validates a schedule from the wire. */
export function parsePlaybackSchedule(
	input: unknown
): { ok: true; schedule: PlaybackSchedule } | { ok: false; reason: 'invalid'; message: string } {
	const result = v.safeParse(PlaybackScheduleSchema, input);
	if (result.success) return { ok: true, schedule: result.output };
	return { ok: false, reason: 'invalid', message: result.issues[0].message };
}

/**
 * The media position (s) the schedule asks for at a server time: frozen before a future
 * anchor (playback has not started yet) and while paused, clamped to [0, duration].
 */
export function targetMediaTime(
	schedule: PlaybackSchedule,
	serverNowMs: number,
	durationS?: number
): number {
	const elapsedMs = schedule.playing ? Math.max(0, serverNowMs - schedule.anchorServerTime) : 0;
	const target = schedule.anchorMediaTime + (elapsedMs / 1000) * schedule.rate;
	const clamped = Math.max(0, target);
	return durationS === undefined ? clamped : Math.min(clamped, durationS);
}

/**
 * How fast the target moves at a server time (media s per s): the rate while playing, 0 before
 * the start, while paused and once the end is reached.
 */
export function targetRateAt(
	schedule: PlaybackSchedule,
	serverNowMs: number,
	durationS?: number
): number {
	if (!schedule.playing || serverNowMs < schedule.anchorServerTime) return 0;
	if (durationS !== undefined && targetMediaTime(schedule, serverNowMs) >= durationS) return 0;
	return schedule.rate;
}

/**
 * Plays from wherever the schedule stands at server time `atMs` (a paused schedule: its frozen
 * position), starting then. Use a time a little ahead, so every member can be ready.
 */
export function playAt(schedule: PlaybackSchedule, atMs: number): PlaybackSchedule {
	return {
		...schedule,
		playing: true,
		anchorMediaTime: targetMediaTime(schedule, atMs),
		anchorServerTime: atMs
	};
}

/**
 * Pauses at server time `atMs`, frozen where the target is then. Pass the server's current
 * time: one anchor cannot say "play until T, then stop", and a paused schedule is frozen from
 * the moment it arrives. Members that played a little past the point seek back, invisibly.
 */
export function pauseAt(schedule: PlaybackSchedule, atMs: number): PlaybackSchedule {
	return {
		...schedule,
		playing: false,
		anchorMediaTime: targetMediaTime(schedule, atMs),
		anchorServerTime: atMs
	};
}

/** Jumps to `mediaTime` (s) at server time `atMs`, playing or paused as before. */
export function seekTo(
	schedule: PlaybackSchedule,
	mediaTime: number,
	atMs: number
): PlaybackSchedule {
	return { ...schedule, anchorMediaTime: Math.max(0, mediaTime), anchorServerTime: atMs };
}

/** Changes the rate from server time `atMs` on, without a jump in position. */
export function changeRateAt(
	schedule: PlaybackSchedule,
	rate: number,
	atMs: number
): PlaybackSchedule {
	return {
		...schedule,
		rate,
		anchorMediaTime: targetMediaTime(schedule, atMs),
		anchorServerTime: atMs
	};
}
