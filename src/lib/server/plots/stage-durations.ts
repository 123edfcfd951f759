/**
 * How long stages ran, from the rooms' logs (pure): a room starts on its first room stage when
 * it is formed, each `stage.advanced` ends one stage and starts the next, and `room.finished`
 * ends the last. A stage still running has no duration yet and is left out.
 */
import type { StageDurationRow } from './types';

/** The events this reads, as the log stores them. */
export type StageEvent = { name: string; at: number; payload: unknown };

/** One stage as one room ran it; `endedAt` null while it runs. */
export type StageRun = { stageId: string; startedAt: number; endedAt: number | null };

/** The events that start or end stages (what to read from the log). */
export const STAGE_EVENT_NAMES = ['stage.advanced', 'room.finished'] as const;

const payloadTime = (event: StageEvent): number => {
	const at = (event.payload as { at?: unknown } | null)?.at;
	// The decided time is in the payload; the commit time is a fallback for odd rows.
	return typeof at === 'number' && Number.isFinite(at) ? at : event.at;
};

/**
 * The stages one room ran, in order. `start` is its first room stage and when the room was
 * formed; `events` its stage events in log order.
 */
export function listStageRuns(
	start: { stageId: string; at: number },
	events: readonly StageEvent[]
): StageRun[] {
	const runs: StageRun[] = [{ stageId: start.stageId, startedAt: start.at, endedAt: null }];
	for (const event of events) {
		const current = runs.at(-1)!;
		if (current.endedAt !== null) break;
		const at = payloadTime(event);
		if (event.name === 'stage.advanced') {
			const to = (event.payload as { toStageId?: unknown } | null)?.toStageId;
			current.endedAt = at;
			if (typeof to === 'string') runs.push({ stageId: to, startedAt: at, endedAt: null });
		} else if (event.name === 'room.finished') {
			current.endedAt = at;
		}
	}
	return runs;
}

/** The nearest-rank percentile of ascending `sorted`; null for none. */
function percentile(sorted: readonly number[], p: number): number | null {
	if (sorted.length === 0) return null;
	const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
	return sorted[Math.min(rank, sorted.length) - 1]!;
}

/**
 * Durations per stage in seconds over finished runs: count, median, quartiles, range, mean.
 * Rows follow `order` (the study's stage order), then stages not in it by first appearance.
 */
export function summarizeStageDurations(
	runs: readonly StageRun[],
	titles: ReadonlyMap<string, string>,
	order: readonly string[] = [...titles.keys()]
): StageDurationRow[] {
	const durations = new Map<string, number[]>();
	for (const run of runs) {
		if (run.endedAt === null) continue;
		const list = durations.get(run.stageId) ?? [];
		durations.set(run.stageId, list);
		list.push(Math.max(0, run.endedAt - run.startedAt) / 1000);
	}
	const ids = [...order.filter((id) => durations.has(id))];
	for (const id of durations.keys()) if (!ids.includes(id)) ids.push(id);
	return ids.map((stageId) => {
		const sorted = durations.get(stageId)!.sort((a, b) => a - b);
		return {
			stageId,
			title: titles.get(stageId) ?? stageId,
			count: sorted.length,
			median: percentile(sorted, 50),
			p25: percentile(sorted, 25),
			p75: percentile(sorted, 75),
			min: sorted[0] ?? null,
			max: sorted.at(-1) ?? null,
			mean: sorted.length ? sorted.reduce((sum, d) => sum + d, 0) / sorted.length : null
		};
	});
}
