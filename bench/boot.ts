/**
 * Boot time of the built server on PGlite: spawn → /readyz 200, for a first boot (empty
 * DATA_DIR: initdb + migrations) and a warm boot (existing data). Prints figures; not a test.
 *
 *   bun run build && bun run bench:boot [runs]
 */
import { cpus } from 'node:os';
import { startServer, temporaryDataDir } from '../tests/support/server';

const runs = Number(process.argv[2] ?? 5);
const first: number[] = [];
const warm: number[] = [];

for (let i = 0; i < runs; i++) {
	const data = temporaryDataDir();
	try {
		const cold = await startServer({ DATA_DIR: data.dir, LOG_LEVEL: 'warn' });
		first.push(cold.readyMs);
		await cold.stop();
		const again = await startServer({ DATA_DIR: data.dir, LOG_LEVEL: 'warn' });
		warm.push(again.readyMs);
		await again.stop();
	} finally {
		data.remove();
	}
}

const describe = (samples: number[]) => {
	const sorted = [...samples].sort((a, b) => a - b);
	const median = sorted[Math.floor(sorted.length / 2)]!;
	return `median ${median.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (n=${sorted.length})`;
};

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, bun ${Bun.version}`);
console.log(`command: bun run bench:boot ${runs}`);
console.log(`PGlite first boot → /readyz: ${describe(first)}`);
console.log(`PGlite warm boot  → /readyz: ${describe(warm)}`);
