import type { RequestHandler } from './$types';

/** Liveness: the process answers. Says nothing about its dependencies (see /readyz). */
export const GET: RequestHandler = () =>
	Response.json({ status: 'ok' }, { headers: { 'cache-control': 'no-store' } });
