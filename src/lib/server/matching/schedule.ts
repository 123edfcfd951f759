import type { SessionSettings } from '$lib/study';

type ScheduledSession = Extract<SessionSettings, { mode: 'scheduled' }>;

const MINUTE = 60_000;

/**
 * The start (epoch ms) of the first cohort at or after `now`. Starts are `firstStartAt` plus
 * whole intervals; without `firstStartAt` they are counted from midnight UTC, which puts them
 * on the hour for any interval that divides or is a multiple of 60 minutes.
 */
export function nextCohortStart(session: ScheduledSession, now: number): number {
	const interval = session.intervalMinutes * MINUTE;
	const anchor = session.firstStartAt === '' ? 0 : Date.parse(session.firstStartAt);
	if (now <= anchor) return anchor;
	return anchor + Math.ceil((now - anchor) / interval) * interval;
}

/**
 * Splits a cohort of `count` into the fewest rooms of at most `maxSize`, sizes as equal as
 * possible (they differ by at most one, larger rooms first): 10 by 4 → 4, 3, 3.
 */
export function splitCohort(count: number, maxSize: number): number[] {
	if (count <= 0) return [];
	const rooms = Math.ceil(count / Math.max(1, maxSize));
	const base = Math.floor(count / rooms);
	const larger = count % rooms;
	return Array.from({ length: rooms }, (_, i) => base + (i < larger ? 1 : 0));
}
