/**
 * Production entry: owns `Bun.serve` around the SvelteKit handler built by
 * svelte-adapter-bun, opens (and migrates) the database before accepting requests, and shuts
 * down gracefully on SIGTERM/SIGINT. Bundled to `build/server.js` by `bun run build`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configurePasswordHashing } from './lib/server/auth/passwords';
import { describeEnvProblems, getEnv, parseEnv } from './lib/server/config/env';
import { closeDatabase, getDatabaseHandle } from './lib/server/db';
import { isMediaUpload, largestBodySize, refuseOversizedBody } from './lib/server/http/body-limit';
import { toStreamingRequestInit } from './lib/server/http/streaming-request';
import { log } from './lib/server/log';
import { startMaintenance } from './lib/server/maintenance';
import { startMatchingRunner } from './lib/server/matching/runner';
import type { SocketData } from './lib/server/realtime/bun-adapter';
import { startRealtime } from './lib/server/realtime/runtime';
import {
	isSocketUpgrade,
	readClientAddress,
	refuseUpgradeFlood
} from './lib/server/realtime/upgrade-throttle';

type AdapterHandler = {
	fetch: (request: Request, server: Bun.Server<SocketData>) => Response | Promise<Response>;
};

/** `build/handler.js` sits next to the bundled entry, or in ../build when run from src/. */
function findHandler(): string {
	const beside = join(import.meta.dir, 'handler.js');
	return existsSync(beside) ? beside : resolve(import.meta.dir, '../build/handler.js');
}

async function main(): Promise<void> {
	const bootStarted = performance.now();
	const parsed = parseEnv(process.env);
	if (!parsed.ok) {
		console.error(describeEnvProblems(parsed.problems));
		process.exit(1);
	}
	const env = getEnv();
	// The adapter builds request URLs from ORIGIN; without it it would assume https.
	process.env.ORIGIN = env.origin;
	configurePasswordHashing(env.passwordHashConcurrency);

	let database;
	try {
		database = await getDatabaseHandle();
	} catch (error) {
		log.error('boot.database_failed', { error: (error as Error).message });
		process.exit(1);
	}

	const handlerPath = findHandler();
	if (!existsSync(handlerPath)) {
		log.error('boot.not_built', { expected: handlerPath, fix: 'run `bun run build` first' });
		process.exit(1);
	}
	const { getHandler } = (await import(handlerPath)) as { getHandler: () => AdapterHandler };
	const handler = getHandler();

	const realtime = startRealtime(env, database.db);
	// Media uploads may be as large as MEDIA_MAX_SIZE; every other body stays within
	// BODY_SIZE_LIMIT, checked per request by `refuseOversizedBody`.
	const bodyLimits = { defaultBytes: env.bodySizeLimit, mediaBytes: env.mediaMaxSize };
	const server = Bun.serve({
		hostname: env.host,
		port: env.port,
		maxRequestBodySize: largestBodySize(bodyLimits),
		idleTimeout: 60,
		// Upgrades are decided in hooks.server.ts (`upgradeRealtime`), which calls server.upgrade.
		fetch: (request, bunServer) => {
			// Without a Host header (HTTP/1.0 probes) Bun passes a relative URL the handler cannot parse.
			if (!URL.canParse(request.url)) return new Response('Host header required', { status: 400 });
			const refused = refuseOversizedBody(request, bodyLimits);
			if (refused) return refused;
			const { pathname } = new URL(request.url);
			// Socket upgrades per address, before SvelteKit: a flood of them stays cheap.
			if (isSocketUpgrade(request, pathname)) {
				const peer = bunServer.requestIP(request)?.address;
				const flooded = refuseUpgradeFlood(readClientAddress(request, peer, env));
				if (flooded) return flooded;
			}
			if (isMediaUpload(request.method, pathname)) {
				// Large uploads outlast the idle timeout (and moving them into S3 can too), and
				// must reach the route as a stream: see toStreamingRequestInit.
				bunServer.timeout(request, 0);
				return handler.fetch(toStreamingRequestInit(request) as Request, bunServer);
			}
			return handler.fetch(request, bunServer);
		},
		websocket: realtime.websocket
	});
	realtime.transport.bind(server);
	const stopMaintenance = startMaintenance();
	const stopMatching = startMatchingRunner();
	log.info('server.ready', {
		url: `http://${env.host}:${server.port}`,
		origin: env.origin,
		database: database.kind,
		bootMs: Math.round(performance.now() - bootStarted)
	});

	let stopping = false;
	const shutdown = async (signal: string) => {
		if (stopping) {
			log.warn('server.forced_exit', { signal });
			process.exit(1);
		}
		stopping = true;
		log.info('server.stopping', { signal, timeoutMs: env.shutdownTimeoutMs });
		stopMaintenance();
		stopMatching();
		// Stop accepting; sockets are told to go away (they resume on another replica), queued
		// commits and telemetry are written; then in-flight requests finish or are cut.
		const drained = server.stop(false).then(() => true);
		await realtime.stop();
		const timedOut = Bun.sleep(env.shutdownTimeoutMs).then(() => false);
		if (!(await Promise.race([drained, timedOut]))) await server.stop(true);
		await closeDatabase();
		log.info('server.stopped', { signal });
		process.exit(0);
	};
	process.on('SIGTERM', () => void shutdown('SIGTERM'));
	process.on('SIGINT', () => void shutdown('SIGINT'));
}

await main();
