import type { HandleServerError, ServerInit } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { configurePasswordHashing } from '$lib/server/auth/passwords';
import { getEnv } from '$lib/server/config/env';
import { getDatabaseHandle } from '$lib/server/db';
import { authenticate } from '$lib/server/hooks/authenticate';
import { preventCachingAuthenticatedJson } from '$lib/server/hooks/no-store';
import { checkOrigin } from '$lib/server/hooks/origin-check';
import { upgradeRealtime } from '$lib/server/hooks/realtime-upgrade';
import { securityHeaders } from '$lib/server/hooks/security-headers';
import { refuseUnstorableAddress } from '$lib/server/hooks/storable-address';
import { log, withholdParameters } from '$lib/server/log';
import { upgradeMonitor } from '$lib/server/monitor/hook';

export const init: ServerInit = async () => {
	configurePasswordHashing(getEnv().passwordHashConcurrency);
	await getDatabaseHandle();
};

export const handle = sequence(
	securityHeaders,
	refuseUnstorableAddress,
	checkOrigin,
	authenticate,
	preventCachingAuthenticatedJson,
	upgradeRealtime,
	upgradeMonitor
);

/** Unexpected errors: logged with an id, shown as a generic message with that id. */
export const handleError: HandleServerError = ({ error, event, status, message }) => {
	if (status === 404) return { message };
	const errorId = crypto.randomUUID().slice(0, 8);
	// A failed query's message carries its parameters: what someone sent, never for the log.
	const detail =
		error instanceof Error
			? (error.stack ?? error.message).replace(error.message, withholdParameters(error.message))
			: String(error);
	log.error('request.failed', {
		errorId,
		status,
		method: event.request.method,
		path: event.url.pathname
	});
	console.error(detail);
	return { message: 'Something went wrong on our side.', errorId };
};
