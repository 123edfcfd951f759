/**
 * Export throughput and memory: a study with a large room log (written straight into the
 * database), exported over HTTP from the built server as CSV and NDJSON, read as fast as the
 * client can and then by a slow client. Prints rows/s, MB/s and the server's peak RSS (Linux:
 * /proc/<pid>/status) against its RSS before the export, so buffering would show as growth in
 * proportion to the file. Not a test; tests/integration/export-memory.test.ts runs the same
 * harness with a smaller log and a bound.
 *
 *   bun run build && bun run bench:export [rows] [text bytes]
 *   BENCH_DATABASE_URL=postgres://… bun run bench:export     (Postgres instead of PGlite)
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { openDatabase } from '../src/lib/server/db/open';
import { createBlankStudy, createStage } from '../src/lib/study';
import { seedBulkEvents } from '../tests/integration/export-seed';
import { signUpFirstAdmin } from '../tests/support/app';
import { createPostgresDatabase } from '../tests/support/databases';
import { startServer, temporaryDataDir, type RunningServer } from '../tests/support/server';
import { createAdminApi, publishStudy } from '../tests/support/study-server';

/** Resident memory of a process in bytes (Linux). */
export function readRss(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
	return kb * 1024;
}

export type ExportRun = {
	format: string;
	rows: number;
	bytes: number;
	seconds: number;
	rssBeforeBytes: number;
	rssPeakBytes: number;
};

/**
 * Downloads `path` and counts rows (lines after the CSV header) and bytes while sampling the
 * server's RSS every 50 ms. `chunkDelayMs` makes a slow client.
 */
export async function measureExport(
	server: RunningServer,
	cookie: string,
	path: string,
	format: string,
	chunkDelayMs = 0
): Promise<ExportRun> {
	const pid = server.process.pid;
	Bun.gc(true);
	await Bun.sleep(200);
	const rssBeforeBytes = readRss(pid);
	let rssPeakBytes = rssBeforeBytes;
	const sampler = setInterval(() => {
		rssPeakBytes = Math.max(rssPeakBytes, readRss(pid));
	}, 50);
	const started = performance.now();
	try {
		const response = await fetch(`${server.url}${path}`, { headers: { cookie } });
		if (response.status !== 200)
			throw new Error(`${path}: ${response.status} ${await response.text()}`);
		const reader = response.body!.getReader();
		let bytes = 0;
		let lines = 0;
		for (let read = await reader.read(); !read.done; read = await reader.read()) {
			bytes += read.value.byteLength;
			for (const byte of read.value) if (byte === 10) lines++;
			if (chunkDelayMs > 0) await Bun.sleep(chunkDelayMs);
		}
		const seconds = (performance.now() - started) / 1000;
		rssPeakBytes = Math.max(rssPeakBytes, readRss(pid));
		return {
			format,
			// CSV: a header line; JSON: the `[` and `]` lines around one row per line.
			rows: format === 'csv' ? lines - 1 : format === 'json' ? Math.max(0, lines - 2) : lines,
			bytes,
			seconds,
			rssBeforeBytes,
			rssPeakBytes
		};
	} finally {
		clearInterval(sampler);
	}
}

export type ExportBench = {
	server: RunningServer;
	cookie: string;
	studyId: string;
	rows: number;
	/** Seconds spent writing the log. */
	seedSeconds: number;
	stop: () => Promise<void>;
};

/**
 * A built server whose one study has `rows` chat events (in rooms of 10 000) with `textBytes`
 * of text each. The study is published over HTTP; the log is written with the server stopped
 * (PGlite allows one process), then the server starts again on the same data.
 */
export async function startExportBench(input: {
	rows: number;
	textBytes: number;
	postgresUrl: string | null;
}): Promise<ExportBench> {
	const cleanups: (() => unknown)[] = [];
	const data = temporaryDataDir();
	cleanups.push(data.remove);
	const env: Record<string, string> = { DATA_DIR: data.dir, LOG_LEVEL: 'warn' };
	if (input.postgresUrl) {
		const database = await createPostgresDatabase(input.postgresUrl);
		cleanups.unshift(database.drop);
		env.DATABASE_URL = database.url;
	}
	try {
		const first = await startServer(env);
		const cookie = await signUpFirstAdmin(first);
		const definition = createBlankStudy('Export bench');
		definition.stages = [
			{ ...createStage('chat', []), id: 'talk' },
			{ ...createStage('end', []), id: 'end' }
		];
		const study = await publishStudy(createAdminApi(first, cookie), definition, 'Export bench');
		await first.stop();

		const seeding = performance.now();
		const handle = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: data.dir });
		const perRoom = Math.min(input.rows, 10_000);
		let rows = 0;
		try {
			rows = await seedBulkEvents(handle.db, {
				studyId: study.id,
				version: 1,
				rooms: Math.ceil(input.rows / perRoom),
				eventsPerRoom: perRoom,
				textBytes: input.textBytes
			});
		} finally {
			await handle.close();
		}
		const seedSeconds = (performance.now() - seeding) / 1000;
		const server = await startServer(env);
		cleanups.unshift(() => server.stop());
		return {
			server,
			cookie,
			studyId: study.id,
			rows,
			seedSeconds,
			stop: async () => {
				for (const cleanup of cleanups) await cleanup();
			}
		};
	} catch (error) {
		for (const cleanup of cleanups) await cleanup();
		throw error;
	}
}

const MB = 1024 * 1024;

function describeRun(run: ExportRun, label: string): string {
	const growth = (run.rssPeakBytes - run.rssBeforeBytes) / MB;
	return [
		label.padEnd(22),
		`${run.rows} rows`.padStart(12),
		`${(run.bytes / MB).toFixed(1)} MB`.padStart(10),
		`${run.seconds.toFixed(2)} s`.padStart(9),
		`${Math.round(run.rows / run.seconds)} rows/s`.padStart(15),
		`${(run.bytes / MB / run.seconds).toFixed(1)} MB/s`.padStart(11),
		`RSS ${(run.rssBeforeBytes / MB).toFixed(0)} → peak ${(run.rssPeakBytes / MB).toFixed(0)} MB (+${growth.toFixed(0)})`
	].join('  ');
}

if (import.meta.main) {
	const rows = Number(process.argv[2] ?? 200_000);
	const textBytes = Number(process.argv[3] ?? 200);
	const postgresUrl = process.env.BENCH_DATABASE_URL?.trim() || null;
	console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, bun ${Bun.version}`);
	console.log(`command: bun run bench:export ${rows} ${textBytes}`);
	console.log(`database: ${postgresUrl ? 'Postgres' : 'PGlite'}`);
	const bench = await startExportBench({ rows, textBytes, postgresUrl });
	try {
		console.log(`seeded ${bench.rows} events in ${bench.seedSeconds.toFixed(1)} s`);
		const base = `/api/studies/${bench.studyId}/data/events`;
		const report = (label: string, run: ExportRun) => {
			console.log(describeRun(run, label));
			if (run.rows !== bench.rows)
				throw new Error(`${label}: ${run.rows} rows, expected ${bench.rows}`);
		};
		for (const format of ['csv', 'ndjson', 'json'] as const) {
			report(
				`events ${format}`,
				await measureExport(bench.server, bench.cookie, `${base}?format=${format}`, format)
			);
		}
		// A slow client: the server must read the database only as fast as it is drained.
		report(
			'events csv, slow client',
			await measureExport(bench.server, bench.cookie, `${base}?format=csv`, 'csv', 5)
		);
		report(
			'chat csv',
			await measureExport(
				bench.server,
				bench.cookie,
				`/api/studies/${bench.studyId}/data/chat`,
				'csv'
			)
		);
	} finally {
		await bench.stop();
	}
}
