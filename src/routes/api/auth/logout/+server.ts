import { endSession } from '$lib/server/auth/request';
import type { RequestHandler } from './$types';

/** Ends the current session server-side and clears the cookie. Idempotent. */
export const POST: RequestHandler = async (event) => {
	await endSession(event);
	return new Response(null, { status: 204 });
};
