import { checkReadiness } from '$lib/server/readiness';
import type { RequestHandler } from './$types';

/**
 * Readiness: 200 when the database answers (`degraded` when an optional dependency, the bus or
 * LiveKit, does not), 503 with the failing check otherwise.
 */
export const GET: RequestHandler = async () => {
	const readiness = await checkReadiness();
	return Response.json(
		{
			status: readiness.ready ? (readiness.degraded ? 'degraded' : 'ready') : 'unavailable',
			checks: readiness.checks
		},
		{ status: readiness.ready ? 200 : 503, headers: { 'cache-control': 'no-store' } }
	);
};
