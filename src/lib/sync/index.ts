/** Synchronized media: clock sync, playback schedule, playback control. Pure, isomorphic. */
export {
	ClockSync,
	measureNtpSample,
	nextPingDelayMs,
	PING_BURST_INTERVAL_MS,
	PING_BURST_SIZE,
	PING_FAST_INTERVAL_MS,
	PING_INTERVAL_MS,
	type ClockEstimate,
	type ClockSampleResult,
	type NtpSample
} from './clock';
export {
	PlaybackController,
	type ControlPhase,
	type ControllerInput,
	type ControllerOptions,
	type ControllerOutput,
	type PlaybackAction,
	type PlayerState,
	type SeekReport
} from './controller';
export { estimateFrameIntervalMs } from './display';
export { planStart, PlaybackStart, type StartPlan, type StartReport } from './start';
export {
	changeRateAt,
	parsePlaybackSchedule,
	pauseAt,
	playAt,
	PlaybackScheduleSchema,
	seekTo,
	targetMediaTime,
	targetRateAt,
	type PlaybackSchedule
} from './schedule';
export {
	nearestRankPercentile,
	RatingSampleSchema,
	summarizeRatings,
	summarizeSyncQuality,
	SYNC_PHASES,
	SYNC_QUALITY_INTERVAL_S,
	SYNC_QUALITY_KIND,
	SyncQualitySampleSchema,
	VIDEO_RATING_KIND,
	type MemberSample,
	type Percentiles,
	type RatingSample,
	type RatingSummary,
	type SyncPhase,
	type SyncQualitySample,
	type SyncQualitySummary
} from './quality';
