/** The bench's view of the machine and of its own clock, for `bun run bench:sync`. */
import { readFileSync } from 'node:fs';

/** This process's clock, ms since the epoch: the same kind of clock the server pings with. */
export const benchNow = () => performance.timeOrigin + performance.now();

/**
 * This process's clock minus the wall clock (`Date.now()`), ms: sampled at the instant
 * `Date.now()` ticks (exact to the microsecond, where a plain difference would carry Date.now's
 * truncation), median of `count` samples.
 */
export async function measureBenchMinusWall(count = 60): Promise<number> {
	const samples: number[] = [];
	for (let i = 0; i < count; i++) {
		const start = Date.now();
		let hires = benchNow();
		let wall = start;
		while (wall === start) {
			hires = benchNow();
			wall = Date.now();
		}
		samples.push(hires - wall);
		await Bun.sleep(3);
	}
	samples.sort((a, b) => a - b);
	return samples[samples.length >> 1] as number;
}

/** Waits until `clock()` reads `target` (ms). */
export async function sleepUntil(clock: () => number, target: number): Promise<void> {
	for (let left = target - clock(); left > 0; left = target - clock()) {
		await Bun.sleep(Math.min(250, left));
	}
}

type CpuTimes = { busy: number; total: number };

function readCpuTimes(): CpuTimes {
	const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
	const fields = line.trim().split(/\s+/).slice(1).map(Number);
	// user nice system idle iowait irq softirq steal
	const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
	const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
	return { busy: total - idle, total };
}

export type MachineLoad = { busyPercent: number; loadAverage: number };

/** Starts measuring how busy the whole machine is; call the result to stop and read. */
export function startLoadMeter(): () => MachineLoad {
	const before = readCpuTimes();
	return () => {
		const after = readCpuTimes();
		const total = after.total - before.total;
		const busyPercent = total > 0 ? ((after.busy - before.busy) / total) * 100 : 0;
		const loadAverage = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
		return { busyPercent, loadAverage };
	};
}

/**
 * Waits (at most `maxWaitMs`) for a second in which the machine is less than `busyPercent`
 * busy, so a run does not start in the middle of someone else's build; returns the last
 * second's busy share either way.
 */
export async function waitForQuiet(busyPercent: number, maxWaitMs: number): Promise<number> {
	const giveUpAt = performance.now() + maxWaitMs;
	for (;;) {
		const stop = startLoadMeter();
		await Bun.sleep(1_000);
		const { busyPercent: busy } = stop();
		if (busy < busyPercent || performance.now() >= giveUpAt) return busy;
	}
}
