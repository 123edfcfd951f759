import { getDatabaseHandle } from './db';

// A probe must answer quickly even when the database hangs.
const CHECK_TIMEOUT_MS = 2_000;

export type CheckResult = { ok: true; ms: number } | { ok: false; error: string };
export type Readiness = { ready: boolean; checks: Record<string, CheckResult> };

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

/** Whether this replica can serve: the database answers (the realtime issue adds the bus). */
export async function checkReadiness(): Promise<Readiness> {
	const database = await timed(async () => (await getDatabaseHandle()).ping());
	return { ready: database.ok, checks: { database } };
}
