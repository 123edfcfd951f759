/**
 * The spacing of displayed frames, from their display times (`requestVideoFrameCallback`'s
 * `expectedDisplayTime`): a frame is shown on a refresh and held until the next frame's turn,
 * so a frame's display time can only move in steps of about this much (a refresh at least, a
 * frame period when the browser keeps its cadence). It sets the controller's lock band. Pure.
 */

/** Spacings outside this range (ms) are no frame period: over 250 fps, or under 10 fps. */
const PLAUSIBLE_FRAME_INTERVAL_MS = { min: 4, max: 100 } as const;
/** Fewer plausible spacings than this say nothing yet. */
const MIN_SPACINGS = 10;

/**
 * The median spacing of consecutive display times (ms), ignoring gaps (a seek, a stall, a busy
 * main thread); undefined when too few are plausible.
 */
export function estimateFrameIntervalMs(displayTimesMs: readonly number[]): number | undefined {
	const spacings: number[] = [];
	for (let i = 1; i < displayTimesMs.length; i++) {
		const spacing = (displayTimesMs[i] as number) - (displayTimesMs[i - 1] as number);
		const { min, max } = PLAUSIBLE_FRAME_INTERVAL_MS;
		if (spacing >= min && spacing <= max) spacings.push(spacing);
	}
	if (spacings.length < MIN_SPACINGS) return undefined;
	spacings.sort((a, b) => a - b);
	return spacings[spacings.length >> 1];
}
