import { getRealtimeMetrics, renderMetrics } from '$lib/server/realtime/metrics';
import type { RequestHandler } from './$types';

/** Prometheus text format. Counts only: no ids, no content. */
export const GET: RequestHandler = () =>
	new Response(renderMetrics(getRealtimeMetrics()), {
		headers: {
			'content-type': 'text/plain; version=0.0.4; charset=utf-8',
			'cache-control': 'no-store'
		}
	});
