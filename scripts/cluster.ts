/**
 * The scaled-out topology of deploy/compose.yaml, natively on one machine: N replicas of the
 * built server (`bun build/server.js`) on loopback ports, sharing one PostgreSQL database and
 * one Redis, behind a Debian `haproxy` whose configuration is derived from deploy/haproxy.cfg
 * (same balancing, health checks and timeouts; loopback addresses instead of container names).
 *
 *   bun run build && bun run cluster [replicas]
 *
 * Run directly, it creates a fresh database on TEST_DATABASE_URL (or DATABASE_URL), uses
 * TEST_REDIS_URL (or REDIS_URL), prints the front URL and stops everything on Ctrl-C. Tests and
 * benchmarks call startCluster().
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Subprocess } from 'bun';
import { createPostgresDatabase } from '../tests/support/databases';

const ROOT = resolve(import.meta.dir, '..');
const ENTRY = join(ROOT, 'build/server.js');
const DEPLOY_CONFIG = join(ROOT, 'deploy/haproxy.cfg');
/** The ports deploy/haproxy.cfg binds in the container, mapped to free loopback ports here. */
const DEPLOY_FRONT_PORT = 8080;
const DEPLOY_STATS_PORT = 8404;
// Boot applies migrations under an advisory lock, one replica after another: seconds, not more.
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 50;
// Graceful stop drains sockets and commits; past this a replica is killed outright.
const STOP_GRACE_MS = 3_000;
// Enough of a process's output to explain a failure, bounded for long runs.
const OUTPUT_TAIL_CHARS = 64 * 1024;

export type ClusterOptions = {
	/** Number of app replicas; 3 by default, like deploy/compose.yaml. */
	replicas?: number;
	/** A PostgreSQL database all replicas share (migrated by the first replica to boot). */
	databaseUrl: string;
	redisUrl: string;
	/** Extra environment for every replica (wins over the defaults). */
	env?: Record<string, string>;
};

export type ClusterReplica = {
	/** REPLICA_ID and HAProxy server name: app1, app2, … */
	readonly id: string;
	readonly port: number;
	/** The current process (a restart changes it). */
	readonly pid: number;
	/** `http://127.0.0.1:<port>`: this replica directly, bypassing HAProxy (metrics, readiness). */
	readonly url: string;
	readonly running: boolean;
	/** Sends a signal (SIGKILL by default) and waits for the process to exit. */
	kill(signal?: NodeJS.Signals): Promise<void>;
	/** Stops the replica if it runs, starts it again on the same port, waits for /readyz. */
	restart(): Promise<void>;
	/** The tail of its stdout and stderr. */
	output(): string;
};

/** HAProxy's view of one server: UP, DOWN, MAINT, or a transition such as `UP 1/2`. */
export type ServerStates = Record<string, string>;

export type Cluster = {
	/** The HAProxy front, e.g. http://127.0.0.1:41234; what clients use. */
	frontUrl: string;
	/** The ORIGIN every replica is configured with (the front). */
	origin: string;
	statsUrl: string;
	replicas: ClusterReplica[];
	/** Resolves once every running replica is ready and HAProxy has it UP. */
	waitHealthy(timeoutMs?: number): Promise<void>;
	serverStates(): Promise<ServerStates>;
	/** HAProxy's output (request log, health-check transitions). */
	haproxyOutput(): string;
	/** Stops every process this cluster started and removes its temporary files. Idempotent. */
	stop(): Promise<void>;
};

/** The Debian binary lives in /usr/sbin, which is not on every user's PATH. */
export function findHaproxy(): string | undefined {
	return (
		Bun.which('haproxy') ??
		Bun.which('haproxy', { PATH: '/usr/sbin:/usr/local/sbin:/sbin' }) ??
		undefined
	);
}

/** Distinct free loopback ports: all probes are open at once, so no port is handed out twice. */
function reservePorts(count: number): number[] {
	const probes = Array.from({ length: count }, () =>
		Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
	);
	const ports = probes.map((probe) => probe.port!);
	for (const probe of probes) void probe.stop(true);
	return ports;
}

export type HaproxyPorts = {
	frontPort: number;
	statsPort: number;
	servers: { name: string; port: number }[];
};

/**
 * Rewrites deploy/haproxy.cfg for loopback: binds move to the given ports, the `server appN`
 * lines become one line per replica, and Docker's DNS (the `resolvers` section and the
 * resolver options on `default-server`) is dropped. Everything else is kept as written, so a
 * change to balancing, checks or timeouts there is what the cluster tests run. Throws when
 * the file no longer has the lines it rewrites.
 */
export function renderHaproxyConfig(template: string, ports: HaproxyPorts): string {
	const binds = new Map([
		[DEPLOY_FRONT_PORT, ports.frontPort],
		[DEPLOY_STATS_PORT, ports.statsPort]
	]);
	const output: string[] = [];
	let inResolvers = false;
	let serversWritten = false;
	let bindsRewritten = 0;
	for (const line of template.split('\n')) {
		const sectionStart = /^\S/.test(line) && !line.startsWith('#');
		if (sectionStart) inResolvers = line.startsWith('resolvers ');
		if (inResolvers) continue;
		const bind = /^(\s+)bind :(\d+)\s*$/.exec(line);
		if (bind) {
			const port = binds.get(Number(bind[2]));
			if (port === undefined) throw new Error(`haproxy.cfg: unexpected bind :${bind[2]}`);
			output.push(`${bind[1]}bind 127.0.0.1:${port}`);
			bindsRewritten++;
			continue;
		}
		const server = /^(\s+)server app\d+ \S+(.*)$/.exec(line);
		if (server) {
			if (!serversWritten) {
				for (const { name, port } of ports.servers) {
					output.push(`${server[1]}server ${name} 127.0.0.1:${port}${server[2]}`);
				}
				serversWritten = true;
			}
			continue;
		}
		if (/^\s+default-server /.test(line)) {
			output.push(line.replace(/ resolvers \S+/, '').replace(/ init-addr \S+/, ''));
			continue;
		}
		output.push(line);
	}
	if (!serversWritten || bindsRewritten !== binds.size) {
		throw new Error(
			'deploy/haproxy.cfg no longer has `bind :8080`, `bind :8404` and `server appN` lines'
		);
	}
	return output.join('\n');
}

/** Collects a child's stdout and stderr, keeping the last OUTPUT_TAIL_CHARS. */
function captureOutput(child: Subprocess<'ignore', 'pipe', 'pipe'>): () => string {
	let text = '';
	const collect = async (stream: ReadableStream<Uint8Array>) => {
		const reader = stream.getReader();
		const decoder = new TextDecoder();
		for (let read = await reader.read(); !read.done; read = await reader.read()) {
			text += decoder.decode(read.value, { stream: true });
			if (text.length > 2 * OUTPUT_TAIL_CHARS) text = text.slice(-OUTPUT_TAIL_CHARS);
		}
	};
	void collect(child.stdout).catch(() => undefined);
	void collect(child.stderr).catch(() => undefined);
	return () => text.slice(-OUTPUT_TAIL_CHARS);
}

const isRunning = (child: Subprocess) => child.exitCode === null && child.signalCode === null;

/** Signals a child and waits for it; a child that ignores the signal is killed after the grace. */
async function stopProcess(child: Subprocess, signal: NodeJS.Signals): Promise<void> {
	if (!isRunning(child)) return;
	child.kill(signal);
	const timer = setTimeout(() => isRunning(child) && child.kill('SIGKILL'), STOP_GRACE_MS);
	await child.exited;
	clearTimeout(timer);
}

async function isReady(url: string): Promise<boolean> {
	try {
		const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
		await response.body?.cancel();
		return response.status === 200;
	} catch {
		return false;
	}
}

type ReplicaSettings = { id: string; port: number; env: Record<string, string> };

/** One `bun build/server.js` process that can be killed and started again on its port. */
function createReplica(settings: ReplicaSettings, track: (child: Subprocess) => void) {
	const url = `http://127.0.0.1:${settings.port}`;
	const dataDir = mkdtempSync(join(tmpdir(), `ensemble-cluster-${settings.id}-`));
	let child: Subprocess<'ignore', 'pipe', 'pipe'>;
	let output: () => string = () => '';

	const spawn = () => {
		child = Bun.spawn(['bun', ENTRY], {
			cwd: ROOT,
			env: { ...settings.env, DATA_DIR: dataDir },
			stdin: 'ignore',
			stdout: 'pipe',
			stderr: 'pipe'
		});
		track(child);
		output = captureOutput(child);
	};

	const waitReady = async () => {
		const deadline = performance.now() + READY_TIMEOUT_MS;
		while (performance.now() < deadline && isRunning(child)) {
			if (await isReady(url)) return;
			await Bun.sleep(POLL_MS);
		}
		throw new Error(`replica ${settings.id} did not become ready:\n${output()}`);
	};

	spawn();
	const replica: ClusterReplica = {
		id: settings.id,
		port: settings.port,
		url,
		get pid() {
			return child.pid;
		},
		get running() {
			return isRunning(child);
		},
		kill: async (signal = 'SIGKILL') => {
			if (!isRunning(child)) return;
			child.kill(signal);
			await child.exited;
		},
		restart: async () => {
			await stopProcess(child, 'SIGTERM');
			spawn();
			await waitReady();
		},
		output: () => output()
	};
	return {
		replica,
		waitReady,
		stop: () => stopProcess(child, 'SIGTERM'),
		removeData: () => rmSync(dataDir, { recursive: true, force: true })
	};
}

/** `show stat` as CSV: one row per proxy and server, `# pxname,svname,…,status,…`. */
async function readServerStates(statsUrl: string): Promise<ServerStates> {
	const response = await fetch(`${statsUrl};csv`, { signal: AbortSignal.timeout(2_000) });
	const [header, ...rows] = (await response.text()).trim().split('\n');
	const columns = header!.replace(/^# /, '').split(',');
	const proxy = columns.indexOf('pxname');
	const server = columns.indexOf('svname');
	const status = columns.indexOf('status');
	const states: ServerStates = {};
	for (const row of rows) {
		const cells = row.split(',');
		if (cells[proxy] === 'app' && cells[server] !== 'BACKEND') {
			states[cells[server]!] = cells[status]!;
		}
	}
	return states;
}

/**
 * Starts N replicas and HAProxy in front of them, and waits until HAProxy has every replica
 * UP. On any failure everything started so far is stopped before the error propagates.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
	const count = options.replicas ?? 3;
	if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`bun run build\` first.`);
	const haproxyBinary = findHaproxy();
	if (!haproxyBinary) throw new Error('haproxy is not installed (Debian: apt-get install haproxy)');

	const [frontPort, statsPort, ...replicaPorts] = reservePorts(count + 2) as [
		number,
		number,
		...number[]
	];
	const frontUrl = `http://127.0.0.1:${frontPort}`;
	const statsUrl = `http://127.0.0.1:${statsPort}/stats`;
	const workDir = mkdtempSync(join(tmpdir(), 'ensemble-cluster-'));

	// Every child ever spawned, so a crash of this process (a failing test) leaves none behind.
	const children = new Set<Subprocess>();
	const killAll = () => {
		for (const child of children) if (isRunning(child)) child.kill('SIGKILL');
	};
	process.on('exit', killAll);

	const replicaEnv = (id: string, port: number): Record<string, string> => ({
		...(process.env as Record<string, string>),
		// As in the image; `bun test` would otherwise pass on NODE_ENV=test.
		NODE_ENV: 'production',
		HOST: '127.0.0.1',
		PORT: String(port),
		DATABASE_URL: options.databaseUrl,
		REDIS_URL: options.redisUrl,
		REPLICA_ID: id,
		ORIGIN: frontUrl,
		// As in compose.yaml: the client address comes from HAProxy's X-Forwarded-For.
		ADDRESS_HEADER: 'x-forwarded-for',
		XFF_DEPTH: '1',
		LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
		...options.env
	});
	const servers = replicaPorts.map((port, i) => ({ name: `app${i + 1}`, port }));

	const replicas: ReturnType<typeof createReplica>[] = [];
	let haproxy: Subprocess<'ignore', 'pipe', 'pipe'> | undefined;
	let haproxyOutput = () => '';

	let stopped: Promise<void> | undefined;
	const stop = () =>
		(stopped ??= (async () => {
			await Promise.all([
				...replicas.map((r) => r.stop()),
				haproxy && stopProcess(haproxy, 'SIGTERM')
			]);
			killAll();
			process.off('exit', killAll);
			for (const r of replicas) r.removeData();
			rmSync(workDir, { recursive: true, force: true });
		})());

	const serverStates = () => readServerStates(statsUrl);
	const waitHealthy = async (timeoutMs = READY_TIMEOUT_MS) => {
		const deadline = performance.now() + timeoutMs;
		let states: ServerStates = {};
		for (;;) {
			if (!haproxy || !isRunning(haproxy)) throw new Error(`haproxy exited:\n${haproxyOutput()}`);
			const running = replicas.filter(({ replica }) => replica.running);
			states = await serverStates().catch(() => ({}));
			const ready = await Promise.all(running.map(({ replica }) => isReady(replica.url)));
			if (ready.every(Boolean) && running.every(({ replica }) => states[replica.id] === 'UP')) {
				return;
			}
			if (performance.now() > deadline) {
				throw new Error(
					`cluster not healthy within ${timeoutMs} ms: HAProxy says ${JSON.stringify(states)}`
				);
			}
			await Bun.sleep(POLL_MS);
		}
	};

	try {
		const configPath = join(workDir, 'haproxy.cfg');
		const template = await Bun.file(DEPLOY_CONFIG).text();
		writeFileSync(configPath, renderHaproxyConfig(template, { frontPort, statsPort, servers }));
		for (const { name, port } of servers) {
			replicas.push(
				createReplica({ id: name, port, env: replicaEnv(name, port) }, (child) =>
					children.add(child)
				)
			);
		}
		// -db: stay in the foreground (no daemon), so this process owns it and sees its logs.
		haproxy = Bun.spawn([haproxyBinary, '-db', '-f', configPath], {
			stdin: 'ignore',
			stdout: 'pipe',
			stderr: 'pipe'
		});
		children.add(haproxy);
		haproxyOutput = captureOutput(haproxy);
		await Promise.all(replicas.map((r) => r.waitReady()));
		await waitHealthy();
	} catch (error) {
		await stop();
		throw error;
	}
	return {
		frontUrl,
		origin: frontUrl,
		statsUrl,
		replicas: replicas.map((r) => r.replica),
		waitHealthy,
		serverStates,
		haproxyOutput: () => haproxyOutput(),
		stop
	};
}

async function main(): Promise<void> {
	const replicas = Number(process.argv[2] ?? 3);
	if (!Number.isInteger(replicas) || replicas < 1) throw new Error('usage: bun run cluster [n]');
	const adminUrl =
		process.env.TEST_DATABASE_URL ??
		process.env.DATABASE_URL ??
		'postgres://postgres@127.0.0.1:5432/postgres';
	const redisUrl = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

	const database = await createPostgresDatabase(adminUrl);
	let cluster: Cluster;
	try {
		cluster = await startCluster({ replicas, databaseUrl: database.url, redisUrl });
	} catch (error) {
		await database.drop();
		throw error;
	}
	console.log(`Ensemble cluster: ${replicas} replicas behind HAProxy`);
	console.log(`  front     ${cluster.frontUrl}   (first visit: /setup)`);
	console.log(`  stats     ${cluster.statsUrl}`);
	for (const r of cluster.replicas) console.log(`  ${r.id.padEnd(9)} ${r.url}   pid ${r.pid}`);
	console.log(`  database  ${new URL(database.url).pathname.slice(1)} (dropped on exit)`);
	console.log('Ctrl-C stops everything.');

	let stopping = false;
	const shutdown = async () => {
		if (stopping) return;
		stopping = true;
		console.log('\nstopping…');
		await cluster.stop();
		await database.drop();
		process.exit(0);
	};
	process.on('SIGINT', () => void shutdown());
	process.on('SIGTERM', () => void shutdown());
}

if (import.meta.main) await main();
