import { setDefaultTimeout, afterEach, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase } from '../../src/lib/server/db/open';
import { temporaryDataDir } from '../support/server';

// Opening databases and hashing passwords is slow on a 2-core machine.
setDefaultTimeout(30_000);

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
	while (cleanups.length) await cleanups.pop()!();
});

describe('PGlite directory lock', () => {
	test('a second process on the same directory is refused with a clear message', async () => {
		const data = temporaryDataDir();
		cleanups.push(data.remove);
		const openScript = resolve(import.meta.dir, '../../src/lib/server/db/open.ts');
		const holder = Bun.spawn(
			[
				'bun',
				'-e',
				`const { openDatabase } = await import(${JSON.stringify(openScript)});
				 await openDatabase({ dataDir: process.env.LOCK_TEST_DIR });
				 console.log('open');
				 await new Promise(() => {});`
			],
			{
				stdout: 'pipe',
				stderr: 'inherit',
				env: { ...process.env, LOG_LEVEL: 'warn', LOCK_TEST_DIR: data.dir }
			}
		);
		cleanups.push(() => void holder.kill('SIGKILL'));
		const reader = holder.stdout.getReader();
		const { value } = await reader.read();
		expect(new TextDecoder().decode(value)).toContain('open');

		const attempt = openDatabase({ dataDir: data.dir });
		await expect(attempt).rejects.toThrow(
			`already in use by process ${holder.pid} on ${hostname()}`
		);
		await expect(attempt).rejects.toThrow('PGlite allows one process per directory');
	});

	test('a lock left by a dead process is taken over', async () => {
		const data = temporaryDataDir();
		cleanups.push(data.remove);
		const dead = Bun.spawnSync(['true']).pid;
		writeFileSync(
			join(data.dir, 'ensemble.lock'),
			JSON.stringify({ pid: dead, host: hostname(), since: '2026-01-01T00:00:00Z' })
		);
		const handle = await openDatabase({ dataDir: data.dir });
		await handle.ping();
		await handle.close();
		// Closing releases the lock, so the directory can be opened again.
		const again = await openDatabase({ dataDir: data.dir, migrate: false });
		await again.close();
	});
});
