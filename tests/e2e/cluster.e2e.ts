import { expect, test } from '@playwright/test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { isCI, requireService } from '../support/services';
import { runCoherenceSession } from './support/coherence';
import { chatBothWays, meetByInviteCode, publishFocusRoom } from './support/focus-room';

// The templates that need neither video nor A/V, from their study links with real browsers on
// three replicas behind HAProxy, sharing Postgres and Redis (`bun run cluster`, the topology of
// deploy/compose.yaml). HAProxy hashes by path: a study's pages land on one replica, each
// room's sockets on whichever replica its id hashes to, so formation, rooms and signals cross
// replicas as they do in production.

const database = requireService('TEST_DATABASE_URL', 'e2e on three replicas');
const redis = requireService('TEST_REDIS_URL', 'e2e on three replicas');
const haproxy =
	spawnSync('sh', ['-c', 'command -v haproxy || test -x /usr/sbin/haproxy']).status === 0;
if (!haproxy) {
	if (isCI) throw new Error('haproxy is not installed, but CI=true: the cluster e2e must run.');
	console.warn('\n!!! SKIPPED: e2e on three replicas — install haproxy.\n');
}
const available = database.available && redis.available && haproxy;
// Three boots under the migration lock, then HAProxy's health checks.
const CLUSTER_START_MS = 90_000;

type RunningCluster = { front: string; process: ChildProcess; output: () => string };

/** Starts `scripts/cluster.ts` (fresh database, dropped on exit) and reads its front URL. */
function startCluster(): Promise<RunningCluster> {
	const child = spawn('bun', ['scripts/cluster.ts', '3'], {
		env: { ...process.env, LOG_LEVEL: 'warn' },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill('SIGTERM');
			reject(new Error(`the cluster did not start in time:\n${output}`));
		}, CLUSTER_START_MS);
		const read = (chunk: Buffer) => {
			output = (output + chunk.toString()).slice(-32_768);
			const front = /front\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
			if (!front) return;
			clearTimeout(timer);
			resolve({ front, process: child, output: () => output });
		};
		child.stdout!.on('data', read);
		child.stderr!.on('data', read);
		child.on('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`the cluster exited (${code}) before it was up:\n${output}`));
		});
	});
}

/** SIGTERM: the script stops HAProxy and the replicas and drops its database. */
async function stopCluster(cluster: RunningCluster): Promise<void> {
	if (cluster.process.exitCode !== null) return;
	const exited = new Promise((resolve) => cluster.process.once('exit', resolve));
	cluster.process.kill('SIGTERM');
	await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
	if (cluster.process.exitCode === null) cluster.process.kill('SIGKILL');
}

test.describe('on three replicas behind HAProxy', () => {
	test.skip(!available, 'needs Postgres, Redis and haproxy (said above)');
	test.describe.configure({ mode: 'serial' });

	let cluster: RunningCluster | undefined;
	test.beforeAll(async () => {
		test.setTimeout(CLUSTER_START_MS + 10_000);
		cluster = await startCluster();
	});
	test.afterAll(async () => {
		test.setTimeout(30_000);
		if (cluster) await stopCluster(cluster);
	});

	test('a focus room: started by one, joined by invite code, chat both ways', async ({
		browser
	}) => {
		const front = cluster!.front;
		const link = await publishFocusRoom(browser, front);
		const [a, b] = [
			await browser.newContext({ baseURL: front }),
			await browser.newContext({ baseURL: front })
		];
		const [pageA, pageB] = [await a.newPage(), await b.newPage()];
		await meetByInviteCode(pageA, pageB, link);
		// Both are in before anyone moves on: the welcome stage ends once every member is done.
		for (const page of [pageA, pageB]) {
			await expect(page.getByRole('heading', { name: 'Welcome', exact: true })).toBeVisible({
				timeout: 15_000
			});
			await expect(page.getByRole('status').getByText('Connected', { exact: true })).toBeVisible();
		}
		for (const page of [pageA, pageB]) {
			await page.getByRole('button', { name: 'Start focusing' }).click();
		}
		for (const page of [pageA, pageB]) {
			await expect(page.getByRole('heading', { name: 'Focus session' })).toBeVisible();
		}
		await chatBothWays(pageA, pageB);
		await Promise.all([a.close(), b.close()]);
	});

	test('a group-coherence cohort with heart-rate straps', async ({ browser }) => {
		test.setTimeout(150_000);
		await runCoherenceSession(browser, cluster!.front);
	});
});
