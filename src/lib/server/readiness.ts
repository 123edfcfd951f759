import { getDatabaseHandle } from './db';
import { getRealtime } from './realtime/runtime';

// A probe must answer quickly even when the database hangs.
const CHECK_TIMEOUT_MS = 2_000;

export type CheckResult = { ok: true; ms: number } | { ok: false; error: string };
export type Readiness = { ready: boolean; degraded: boolean; checks: Record<string, CheckResult> };

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
 * Whether this replica can serve. The database decides: without Redis a replica still serves
 * correctly from the log (it polls), only slower across replicas, so a bus outage marks the
 * replica degraded instead of taking every replica out of the load balancer at once.
 */
export async function checkReadiness(): Promise<Readiness> {
	const database = await timed(async () => (await getDatabaseHandle()).ping());
	const bus = checkBus();
	const checks: Record<string, CheckResult> = bus ? { database, bus } : { database };
	return { ready: database.ok, degraded: bus !== undefined && !bus.ok, checks };
}
