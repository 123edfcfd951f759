export type Limiter = {
	/** Runs `task` when a slot is free; rejects with `LimiterBusyError` when the queue is full. */
	run<T>(task: () => Promise<T>): Promise<T>;
	readonly active: number;
	readonly queued: number;
};

export class LimiterBusyError extends Error {
	constructor() {
		super('Too many operations waiting; try again shortly.');
		this.name = 'LimiterBusyError';
	}
}

/** Runs at most `concurrency` tasks at once, with a bounded waiting queue. */
export function createLimiter(concurrency: number, maxQueue: number): Limiter {
	let active = 0;
	const waiting: Array<() => void> = [];

	const release = () => {
		active--;
		waiting.shift()?.();
	};

	return {
		get active() {
			return active;
		},
		get queued() {
			return waiting.length;
		},
		async run(task) {
			if (active >= concurrency) {
				if (waiting.length >= maxQueue) throw new LimiterBusyError();
				await new Promise<void>((resolve) => waiting.push(resolve));
			}
			active++;
			try {
				return await task();
			} finally {
				release();
			}
		}
	};
}
