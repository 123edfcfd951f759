import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Subprocess } from 'bun';

const ENTRY = resolve(import.meta.dir, '../../build/server.js');

export type RunningServer = {
	url: string;
	origin: string;
	/** Milliseconds from spawn until /readyz answered 200. */
	readyMs: number;
	process: Subprocess;
	output: () => string;
	stop: (signal?: NodeJS.Signals) => Promise<number>;
};

/** A port nobody listens on right now. */
export function findFreePort(): number {
	const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() });
	const port = probe.port!;
	void probe.stop(true);
	return port;
}

export function temporaryDataDir(): { dir: string; remove: () => void } {
	const dir = mkdtempSync(join(tmpdir(), 'ensemble-server-'));
	return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts the built production server (`bun build/server.js`) and waits until /readyz says
 * ready. Fails with the server's output if it does not get there in time.
 */
export async function startServer(
	env: Record<string, string>,
	// A first PGlite boot takes ~12 s on an idle two-core machine and over 25 s on a busy one.
	timeoutMs = 90_000
): Promise<RunningServer> {
	if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`bun run build\` first.`);
	const port = findFreePort();
	const origin = `http://127.0.0.1:${port}`;
	const started = performance.now();
	const child = Bun.spawn(['bun', ENTRY], {
		cwd: resolve(import.meta.dir, '../..'),
		env: {
			...process.env,
			LOG_LEVEL: 'info',
			HOST: '127.0.0.1',
			PORT: String(port),
			ORIGIN: origin,
			...env
		},
		stdout: 'pipe',
		stderr: 'pipe'
	});
	let output = '';
	const collect = async (stream: ReadableStream<Uint8Array>) => {
		const reader = stream.getReader();
		const decoder = new TextDecoder();
		for (let read = await reader.read(); !read.done; read = await reader.read()) {
			output += decoder.decode(read.value, { stream: true });
		}
	};
	void collect(child.stdout);
	void collect(child.stderr);

	const deadline = started + timeoutMs;
	let readyMs = -1;
	while (performance.now() < deadline && child.exitCode === null) {
		try {
			const response = await fetch(`${origin}/readyz`);
			if (response.status === 200) {
				readyMs = performance.now() - started;
				break;
			}
		} catch {
			// Not listening yet.
		}
		await Bun.sleep(50);
	}
	if (readyMs < 0) {
		child.kill('SIGKILL');
		throw new Error(`server did not become ready within ${timeoutMs} ms:\n${output}`);
	}
	return {
		url: origin,
		origin,
		readyMs,
		process: child,
		output: () => output,
		stop: async (signal = 'SIGTERM') => {
			if (child.exitCode === null) child.kill(signal);
			return child.exited;
		}
	};
}
