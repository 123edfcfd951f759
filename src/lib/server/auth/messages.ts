import type { SignInResult } from './accounts';

export type FailureDescription = {
	status: number;
	error: string;
	message: string;
	retryAfterSeconds?: number;
};

/** One wording for sign-in failures, used by the form and the JSON endpoint alike. */
export function describeSignInFailure(
	result: Extract<SignInResult, { ok: false }>
): FailureDescription {
	switch (result.reason) {
		case 'invalid_credentials':
			return { status: 400, error: 'invalid_credentials', message: 'Incorrect email or password.' };
		case 'disabled':
			return {
				status: 403,
				error: 'account_disabled',
				message: 'This account has been disabled. Contact your Ensemble administrator.'
			};
		case 'throttled': {
			const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
			return {
				status: 429,
				error: 'too_many_attempts',
				message: `Too many sign-in attempts. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
				retryAfterSeconds: seconds
			};
		}
		case 'busy':
			return {
				status: 503,
				error: 'busy',
				message: 'The server is busy signing other people in. Try again in a moment.'
			};
	}
}
