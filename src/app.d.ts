import type { SessionInfo, SessionUser } from '$lib/server/auth/sessions';

declare global {
	namespace App {
		interface Locals {
			user: SessionUser | null;
			session: SessionInfo | null;
			/** The request carried a session cookie that had timed out. */
			sessionExpired: boolean;
		}
		interface Error {
			message: string;
			/** Correlates a generic error page with the server log line. */
			errorId?: string;
		}
	}
}

export {};
