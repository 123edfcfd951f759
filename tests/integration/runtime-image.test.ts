import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreePort } from '../support/server';

// The Dockerfile's runtime stage, done natively (there is no Docker engine here): only
// package.json, bun.lock, bunfig.toml, build/, drizzle/ and assets/, with production dependencies.
setDefaultTimeout(180_000);

const ROOT = resolve(import.meta.dir, '../..');

describe("the Dockerfile's runtime stage", () => {
	const app = mkdtempSync(join(tmpdir(), 'ensemble-runtime-'));
	const data = mkdtempSync(join(tmpdir(), 'ensemble-runtime-data-'));
	afterAll(() => {
		rmSync(app, { recursive: true, force: true });
		rmSync(data, { recursive: true, force: true });
	});

	test('serves from build/ with production dependencies only and migrates at start', async () => {
		for (const entry of ['package.json', 'bun.lock', 'bunfig.toml', 'build', 'drizzle', 'assets']) {
			cpSync(join(ROOT, entry), join(app, entry), { recursive: true });
		}
		const install = Bun.spawnSync(['bun', 'install', '--frozen-lockfile', '--production'], {
			cwd: app,
			stdout: 'pipe',
			stderr: 'pipe'
		});
		expect(install.exitCode, install.stderr.toString()).toBe(0);

		const port = findFreePort();
		const server = Bun.spawn(['bun', 'build/server.js'], {
			cwd: app,
			env: {
				...process.env,
				PORT: String(port),
				HOST: '127.0.0.1',
				DATA_DIR: data,
				NODE_ENV: 'production'
			},
			stdout: 'pipe',
			stderr: 'pipe'
		});
		try {
			let status = 0;
			for (let i = 0; i < 300 && status !== 200 && server.exitCode === null; i++) {
				status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
					(r) => r.status,
					() => 0
				);
				if (status !== 200) await Bun.sleep(100);
			}
			expect(status).toBe(200);
			const page = await fetch(`http://127.0.0.1:${port}/setup`);
			expect(page.status).toBe(200);
			expect(await page.text()).toContain('Welcome to Ensemble');
		} finally {
			server.kill('SIGTERM');
			expect(await server.exited).toBe(0);
		}
	});
});
