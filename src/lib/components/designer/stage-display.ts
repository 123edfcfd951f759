import type { StageType } from '$lib/study';

/** A small symbol per stage type for the stage list (decorative; the label says the type). */
export const STAGE_TYPE_ICONS: Record<StageType, string> = {
	instructions: '¶',
	consent: '✓',
	questionnaire: '?',
	video: '▶',
	conversation: '◎',
	chat: '✉',
	timer: '◔',
	group_choice: '☰',
	wait: '…',
	group_metric: '∿',
	end: '■'
};

/** "90 s", "5 min", "1 min 30 s", or "no limit" for a stage without a duration. */
export function formatStageDuration(seconds: number | null): string {
	if (seconds === null) return 'no limit';
	if (seconds < 60) return `${seconds} s`;
	const minutes = Math.floor(seconds / 60);
	const rest = Math.round(seconds - minutes * 60);
	return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
