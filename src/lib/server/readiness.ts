import { getEnv } from './config/env';
import { getDatabaseHandle } from './db';
import { createLiveKitService } from './livekit/service';
import { getRealtime } from './realtime/runtime';

// A probe must answer quickly even when the database hangs.
const CHECK_TIMEOUT_MS = 2_000;

export type CheckResult = { ok: true; ms: number } | { ok: false; error: string };
export type Readiness = {
	/** The database answers: the replica can serve. */
	ready: boolean;
	/** A check other than the database failed (bus, LiveKit): serving, with less. */
	degraded: boolean;
	/** `database` always; `bus` when a realtime runtime runs; `livekit` when it is configured. */
	checks: Record<string, CheckResult>;
};

/** A LiveKit room name nobody uses: listing only it keeps the probe's answer empty. */
const LIVEKIT_PROBE_ROOM = 'ensemble-readiness-probe';

async function timed(check: () => Promise<void>): Promise<CheckResult> {
	const started = performance.now();
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(
			() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
			CHECK_TIMEOUT_MS
		);
	});
	try {
		await Promise.race([check(), timeout]);
		return { ok: true, ms: Math.round(performance.now() - started) };
	} catch (error) {
		return { ok: false, error: (error as Error).message };
	} finally {
		clearTimeout(timer);
	}
}

/** The bus as the realtime runtime sees it (absent under `vite dev`, where no runtime runs). */
function checkBus(): CheckResult | undefined {
	const bus = getRealtime()?.bus.status();
	if (!bus) return undefined;
	return bus.healthy
		? { ok: true, ms: bus.lagMs ?? 0 }
		: { ok: false, error: bus.detail ?? `${bus.kind} bus unhealthy` };
}

/**
 * LiveKit's server API, when configured: a room listing that proves the URL and the key both
 * work. Audio/video is optional per study, so its outage never makes a replica unready.
 */
async function checkLiveKit(): Promise<CheckResult | undefined> {
	const config = getEnv().livekit;
	if (!config) return undefined;
	const service = createLiveKitService(config, { timeoutMs: CHECK_TIMEOUT_MS });
	return timed(async () => {
		const result = await service.listRooms([LIVEKIT_PROBE_ROOM]);
		if (!result.ok) throw new Error(result.message);
	});
}

/**
 * Whether this replica can serve. The database decides: without Redis a replica still serves
 * correctly from the log (it polls), only slower across replicas, so a bus outage marks the
 * replica degraded instead of taking every replica out of the load balancer at once. LiveKit
 * is reported the same way: studies without audio/video still run.
 */
export async function checkReadiness(): Promise<Readiness> {
	const [database, livekit] = await Promise.all([
		timed(async () => (await getDatabaseHandle()).ping()),
		checkLiveKit()
	]);
	const bus = checkBus();
	const checks: Record<string, CheckResult> = { database };
	if (bus) checks.bus = bus;
	if (livekit) checks.livekit = livekit;
	const degraded = [bus, livekit].some((check) => check !== undefined && !check.ok);
	return { ready: database.ok, degraded, checks };
}
