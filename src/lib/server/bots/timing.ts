import type { Random } from '$lib/study/answers-sample';

/** A think time drawn uniformly from `[min, max]` ms (a reversed range is read as sorted). */
export function pickThinkMs(random: Random, [min, max]: readonly [number, number]): number {
	const low = Math.max(0, Math.min(min, max));
	const high = Math.max(low, min, max);
	return Math.round(low + random() * (high - low));
}

/** Waits `ms`; resolves false at once when `signal` aborts (the bot was stopped). */
export function pause(ms: number, signal: AbortSignal): Promise<boolean> {
	if (signal.aborted) return Promise.resolve(false);
	return new Promise((resolve) => {
		const done = (completed: boolean) => {
			clearTimeout(timer);
			signal.removeEventListener('abort', onAbort);
			resolve(completed);
		};
		const onAbort = () => done(false);
		const timer = setTimeout(() => done(true), ms);
		signal.addEventListener('abort', onAbort);
	});
}
