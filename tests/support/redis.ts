import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { Redis } from 'ioredis';
import { findFreePort } from './server';
import { isCI } from './services';

/** Polls until `check` holds; state, not sleeps, decides when a test moves on. */
export async function waitUntil(
	check: () => boolean | Promise<boolean>,
	what: string,
	timeoutMs = 5_000
): Promise<void> {
	const deadline = performance.now() + timeoutMs;
	while (!(await check())) {
		if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
		await Bun.sleep(10);
	}
}

/** The redis-server binary; loud skip locally, failure under CI when it is missing. */
export function findRedisServer(): string | undefined {
	const path = Bun.which('redis-server') ?? undefined;
	if (path) return path;
	if (isCI)
		throw new Error('redis-server is not on PATH, but CI=true: the restart tests must run.');
	console.warn('\n!!! SKIPPED: Redis restart tests — install redis-server to run them.\n');
	return undefined;
}

export type PrivateRedis = {
	url: string;
	start(): Promise<void>;
	kill(): Promise<void>;
	signal(signal: NodeJS.Signals): void;
	remove(): Promise<void>;
};

/** A throwaway redis-server on a free port, without persistence, restartable on that port. */
export async function startPrivateRedis(binary: string): Promise<PrivateRedis> {
	const port = findFreePort();
	const dir = mkdtempSync(join(tmpdir(), 'ensemble-redis-'));
	const url = `redis://127.0.0.1:${port}`;
	let child: Subprocess | undefined;

	async function start(): Promise<void> {
		const args = [
			'--port',
			String(port),
			'--bind',
			'127.0.0.1',
			'--save',
			'',
			'--appendonly',
			'no'
		];
		child = Bun.spawn([binary, ...args, '--dir', dir], { stdout: 'ignore', stderr: 'inherit' });
		await waitUntil(() => ping(url), `redis-server on port ${port}`, 10_000);
	}
	async function kill(): Promise<void> {
		child?.kill('SIGKILL');
		await child?.exited;
		child = undefined;
	}
	await start();
	return {
		url,
		start,
		kill,
		signal: (signal) => child?.kill(signal),
		remove: async () => {
			await kill();
			rmSync(dir, { recursive: true, force: true });
		}
	};
}

export async function ping(url: string): Promise<boolean> {
	const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
	probe.on('error', () => {});
	try {
		await probe.connect();
		return (await probe.ping()) === 'PONG';
	} catch {
		return false;
	} finally {
		probe.disconnect();
	}
}
