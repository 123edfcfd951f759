/** Heart-rhythm coherence and group metrics: pure, shared by server and browser. */
export { COHERENCE_BANDS, bandOf, type CoherenceBand } from './bands';
export {
	computeCoherence,
	DEFAULT_WINDOW_SECONDS,
	type CoherenceOptions,
	type CoherenceResult
} from './coherence';
export {
	DEFAULT_MAX_SAMPLE_AGE_MS,
	meanOf,
	summarizeGroup,
	type GroupSummary,
	type MemberSample,
	type MemberScore
} from './group';
export {
	parseSignalSample,
	SignalBuffer,
	SignalSampleSchema,
	type PushResult,
	type SignalKind,
	type SignalSample
} from './samples';
export { synthesizeRrIntervals } from './synthetic';
export {
	encodeHeartRateMeasurement,
	parseHeartRateMeasurement,
	type HeartRateMeasurement,
	type ParseHeartRateResult
} from './heart-rate';
