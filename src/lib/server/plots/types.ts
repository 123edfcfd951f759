/**
 * What the plot endpoints return (and the pages draw). Every line of a plot shares the plot's
 * `x`, with null where a participant had no sample in that bin, which is what uPlot draws.
 * Types only: the browser imports them from here.
 */

/** One participant's line (or the group's). */
export type PlotLine = { memberId: string | null; label: string; values: (number | null)[] };

/** Continuous ratings of one video stage over media time. */
export type RatingStagePlot = {
	stageId: string;
	title: string;
	/** Bin starts, seconds of media. */
	x: number[];
	binSeconds: number;
	members: PlotLine[];
	/** Per bin, the mean over the members who rated in it. */
	mean: (number | null)[];
	samples: number;
};

export type RatingsPlot = { kind: 'ratings'; stages: RatingStagePlot[]; invalid: number };

/** Sync quality over the session: error, clock offset and round trip per participant. */
export type SyncPlot = {
	kind: 'sync';
	/** Bin starts, seconds since the room started (server time). */
	x: number[];
	binSeconds: number;
	errorMs: PlotLine[];
	offsetMs: PlotLine[];
	rttMs: PlotLine[];
	samples: number;
	invalid: number;
};

/** Heart-rhythm coherence (0–100) over the session per participant and the group mean. */
export type CoherencePlot = {
	kind: 'coherence';
	/** Seconds since the room started. */
	x: number[];
	stepSeconds: number;
	members: PlotLine[];
	mean: (number | null)[];
	/**
	 * Where the scores come from: computed from R-R intervals (`rr`), reported by the devices
	 * (`reported`), both (`mixed`: a member with reported scores uses those, as the live metric
	 * does), or nothing to show (`none`).
	 */
	source: 'rr' | 'reported' | 'mixed' | 'none';
	samples: number;
};

/** How long each stage ran: in one room, or summarized over a study's rooms. */
export type StageDurationRow = {
	stageId: string;
	title: string;
	/** Rooms (or runs) in which the stage ended. */
	count: number;
	/** Seconds. */
	median: number | null;
	p25: number | null;
	p75: number | null;
	min: number | null;
	max: number | null;
	mean: number | null;
};

export type StageDurationsPlot = { kind: 'stage-durations'; stages: StageDurationRow[] };

/** The study's participants at each step, people and bots apart. */
export type FunnelStep = {
	step: 'arrived' | 'consented' | 'matched' | 'completed';
	label: string;
	participants: number;
	bots: number;
};
export type FunnelPlot = { kind: 'funnel'; steps: FunnelStep[] };

export type RoomPlotName = 'ratings' | 'sync' | 'coherence' | 'stage-durations';
export const ROOM_PLOT_NAMES: readonly RoomPlotName[] = [
	'ratings',
	'sync',
	'coherence',
	'stage-durations'
];

export type RoomPlot = RatingsPlot | SyncPlot | CoherencePlot | StageDurationsPlot;
