/**
 * Coherence bands as the group-coherence template reports them (issue 5): 0–40 low,
 * 40–60 medium, 60–100 high. A score on a boundary belongs to the higher band.
 */

export const COHERENCE_BANDS = ['low', 'medium', 'high'] as const;
export type CoherenceBand = (typeof COHERENCE_BANDS)[number];

/** Lowest score of the medium band. */
export const MEDIUM_FROM = 40;
/** Lowest score of the high band. */
export const HIGH_FROM = 60;

/** The band a coherence score (0–100) falls in. */
export function bandOf(score: number): CoherenceBand {
	if (score >= HIGH_FROM) return 'high';
	if (score >= MEDIUM_FROM) return 'medium';
	return 'low';
}
