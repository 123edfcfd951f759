import type { Outcome } from '$lib/study';

/** How the designer names each outcome. */
export const OUTCOME_LABELS: Record<Outcome, string> = {
	completed: 'Completed',
	no_consent: 'No consent',
	lobby_timeout: 'Lobby timeout',
	dropout: 'Dropout',
	technical_error: 'Technical error',
	screened_out: 'Screened out'
};
