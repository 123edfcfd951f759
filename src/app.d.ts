import type { SessionInfo, SessionUser } from '$lib/server/auth/sessions';
import type { SocketData } from '$lib/server/realtime/bun-adapter';

declare global {
	namespace App {
		interface Locals {
			user: SessionUser | null;
			session: SessionInfo | null;
			/** The request carried a session cookie that had timed out. */
			sessionExpired: boolean;
			/** The API token that authenticated this request (no session then), or null. */
			apiTokenId: string | null;
			/** The request carried a bearer token that is unknown, revoked or malformed. */
			apiTokenRejected: boolean;
		}
		/** Set by svelte-adapter-bun's handler: our Bun server and the original request. */
		interface Platform {
			server: import('bun').Server<SocketData>;
			request: Request;
		}
		interface Error {
			message: string;
			/** Correlates a generic error page with the server log line. */
			errorId?: string;
		}
	}
}

export {};
