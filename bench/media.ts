/**
 * Media library figures on the built server (PGlite, disk storage): upload throughput of a
 * large file streamed over loopback, the server's peak memory while it arrives (uploads are
 * spooled to disk, never held in memory), and the latency of Range requests (seeking).
 * Prints figures; not a test.
 *
 *   bun run build && bun run bench:media [megabytes]
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { signUpFirstAdmin } from '../tests/support/app';
import { residentMiB, writeWav } from '../tests/support/media';
import { startServer, temporaryDataDir } from '../tests/support/server';

const megabytes = Number(process.argv[2] ?? 256);
const RANGE_REQUESTS = 200;

const percentile = (sorted: number[], p: number) =>
	sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

const data = temporaryDataDir();
const file = join(data.dir, 'bench.wav');
await writeWav(file, megabytes * 1024 * 1024);
const server = await startServer({ DATA_DIR: data.dir, LOG_LEVEL: 'warn', MEDIA_MAX_SIZE: '4G' });
try {
	const cookie = await signUpFirstAdmin(server);
	const before = await residentMiB(server.process.pid);
	let during = before;
	const sampler = setInterval(() => {
		void residentMiB(server.process.pid).then((mib) => (during = Math.max(during, mib)));
	}, 20);
	const body = Bun.file(file);
	const started = performance.now();
	const response = await fetch(`${server.url}/api/media`, {
		method: 'POST',
		headers: {
			origin: server.origin,
			cookie,
			'content-type': 'audio/wav',
			'x-filename': 'bench.wav'
		},
		body
	});
	const seconds = (performance.now() - started) / 1000;
	if (response.status !== 201)
		throw new Error(`upload: ${response.status} ${await response.text()}`);
	const { media } = (await response.json()) as { media: { url: string; sizeBytes: number } };
	clearInterval(sampler);
	await Bun.sleep(3000);
	const settled = await residentMiB(server.process.pid);

	const latencies: number[] = [];
	for (let i = 0; i < RANGE_REQUESTS; i++) {
		const start = Math.floor(Math.random() * (media.sizeBytes - 65_536));
		const t0 = performance.now();
		const ranged = await fetch(`${server.url}${media.url}`, {
			headers: { cookie, range: `bytes=${start}-${start + 65_535}` }
		});
		await ranged.arrayBuffer();
		if (ranged.status !== 206) throw new Error(`range: ${ranged.status}`);
		latencies.push(performance.now() - t0);
	}
	latencies.sort((a, b) => a - b);

	console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, bun ${Bun.version}`);
	console.log(`command: bun run bench:media ${megabytes}`);
	console.log(
		`upload of ${megabytes} MiB (WAV, streamed, sniffed, SHA-256, ffprobe, stored): ${seconds.toFixed(2)} s = ${(megabytes / seconds).toFixed(0)} MiB/s`
	);
	console.log(
		`server resident memory: ${before.toFixed(0)} MiB before, at most ${during.toFixed(0)} MiB during the upload (sampled every 20 ms), ${settled.toFixed(0)} MiB 3 s later`
	);
	console.log(
		`Range requests (64 KiB at random offsets, n=${RANGE_REQUESTS}): p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p95 ${percentile(latencies, 0.95).toFixed(2)} ms`
	);
} finally {
	await server.stop();
	data.remove();
}
