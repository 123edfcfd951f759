/**
 * The outcome funnel of a study (pure): how many participants arrived, consented, were matched
 * into a room and completed, people and bots counted apart.
 */
import type { FunnelStep } from './types';

/** What the funnel needs to know about one participant. */
export type FunnelParticipant = {
	isBot: boolean;
	/** Their study version has a consent stage. */
	hasConsentStage: boolean;
	/** They agreed on a consent stage (a stored consent response with `agreed: true`). */
	agreed: boolean;
	/** They were formed into a room. */
	matched: boolean;
	outcome: string | null;
	/** How many participants this row stands for (queries group alike participants); default 1. */
	count?: number;
};

export const FUNNEL_LABELS: Record<FunnelStep['step'], string> = {
	arrived: 'Arrived',
	consented: 'Consented',
	matched: 'Matched',
	completed: 'Completed'
};

/**
 * Consented: agreed to consent and did not decline a later one (`no_consent`), or their version
 * asks for none. The steps are counted independently, so the numbers are facts, not a model.
 */
export function isConsented(p: FunnelParticipant): boolean {
	if (!p.hasConsentStage) return true;
	return p.agreed && p.outcome !== 'no_consent';
}

/** The four steps with their counts. */
export function computeFunnel(participants: Iterable<FunnelParticipant>): FunnelStep[] {
	const steps: FunnelStep[] = (['arrived', 'consented', 'matched', 'completed'] as const).map(
		(step) => ({ step, label: FUNNEL_LABELS[step], participants: 0, bots: 0 })
	);
	const [arrived, consented, matched, completed] = steps as [
		FunnelStep,
		FunnelStep,
		FunnelStep,
		FunnelStep
	];
	for (const p of participants) {
		const key = p.isBot ? 'bots' : 'participants';
		const n = p.count ?? 1;
		arrived[key] += n;
		if (isConsented(p)) consented[key] += n;
		if (p.matched) matched[key] += n;
		if (p.outcome === 'completed') completed[key] += n;
	}
	return steps;
}
