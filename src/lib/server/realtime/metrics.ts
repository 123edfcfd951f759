/**
 * Counters and histograms for `/metrics` (Prometheus text format). Kept on `globalThis` so the
 * Bun entry (sockets) and the SvelteKit bundle (the endpoint) share one registry.
 */

// Fan-out latency buckets in ms: sub-millisecond local sends up to slow cross-replica paths.
const LATENCY_BUCKETS_MS = [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000];

class Histogram {
	readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
	sum = 0;
	total = 0;

	observe(value: number): void {
		let i = 0;
		while (i < LATENCY_BUCKETS_MS.length && value > LATENCY_BUCKETS_MS[i]!) i++;
		this.counts[i]!++;
		this.sum += value;
		this.total++;
	}
}

export class RealtimeMetrics {
	connections = 0;
	connectionsOpened = 0;
	rejectedUpgrades = 0;
	activeRooms = 0;
	eventsAppended = 0;
	commitBatches = 0;
	commandsRejected = 0;
	conflicts = 0;
	busMessagesIn = 0;
	busGapsFilled = 0;
	telemetryQueued = 0;
	telemetryWritten = 0;
	telemetryRefused = 0;
	/** Telemetry samples the database refused for their content (dropped, sender told). */
	telemetryUnstorable = 0;
	/** Commands the database refused for their content (the sender got `unstorable`). */
	commandsUnstorable = 0;
	/** Frames refused at the socket: not JSON, not a protocol message, or unstorable text. */
	framesRefused = 0;
	closedRateLimited = 0;
	/** Sockets closed because a newer one of the same identity took their place. */
	closedReplaced = 0;
	/** Socket upgrades refused with 429 (too many from one address). */
	upgradesThrottled = 0;
	/** Telemetry samples refused by the per-participant quota. */
	telemetryOverQuota = 0;
	/** Time from commit to the local fan-out of an event. */
	readonly fanoutMs = new Histogram();
	/** Time from an event's commit on another replica to its local fan-out here. */
	readonly busLagMs = new Histogram();
	/** Extra gauges filled in at scrape time (bus health, queue depth). */
	gauges: () => Record<string, number> = () => ({});
}

const KEY = Symbol.for('ensemble.realtimeMetrics');
type MetricsGlobal = { [KEY]?: RealtimeMetrics };

export function getRealtimeMetrics(): RealtimeMetrics {
	const store = globalThis as MetricsGlobal;
	return (store[KEY] ??= new RealtimeMetrics());
}

function renderHistogram(name: string, help: string, h: Histogram): string[] {
	const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
	let cumulative = 0;
	LATENCY_BUCKETS_MS.forEach((bound, i) => {
		cumulative += h.counts[i]!;
		lines.push(`${name}_bucket{le="${bound}"} ${cumulative}`);
	});
	lines.push(
		`${name}_bucket{le="+Inf"} ${h.total}`,
		`${name}_sum ${h.sum}`,
		`${name}_count ${h.total}`
	);
	return lines;
}

/** The registry in Prometheus text exposition format. */
export function renderMetrics(m: RealtimeMetrics): string {
	// Gauges are computed first: computing them also refreshes counters read below.
	const gauges = m.gauges();
	const scalar = (name: string, type: 'counter' | 'gauge', help: string, value: number) => [
		`# HELP ${name} ${help}`,
		`# TYPE ${name} ${type}`,
		`${name} ${value}`
	];
	const lines = [
		...scalar('ensemble_connections', 'gauge', 'Open realtime connections.', m.connections),
		...scalar(
			'ensemble_connections_opened_total',
			'counter',
			'Realtime connections opened.',
			m.connectionsOpened
		),
		...scalar(
			'ensemble_upgrades_rejected_total',
			'counter',
			'WebSocket upgrades refused.',
			m.rejectedUpgrades
		),
		...scalar(
			'ensemble_rooms_active',
			'gauge',
			'Rooms with a connection on this replica.',
			m.activeRooms
		),
		...scalar(
			'ensemble_events_appended_total',
			'counter',
			'Durable room events committed here.',
			m.eventsAppended
		),
		...scalar(
			'ensemble_commit_batches_total',
			'counter',
			'Group commits (statements).',
			m.commitBatches
		),
		...scalar(
			'ensemble_commands_rejected_total',
			'counter',
			'Commands refused by the room.',
			m.commandsRejected
		),
		...scalar(
			'ensemble_append_conflicts_total',
			'counter',
			'Appends that lost a race to another replica.',
			m.conflicts
		),
		...scalar(
			'ensemble_bus_messages_in_total',
			'counter',
			'Messages received from other replicas.',
			m.busMessagesIn
		),
		...scalar(
			'ensemble_bus_gaps_filled_total',
			'counter',
			'Gaps filled from the log.',
			m.busGapsFilled
		),
		...scalar(
			'ensemble_telemetry_queue_depth',
			'gauge',
			'Telemetry samples waiting to be written.',
			m.telemetryQueued
		),
		...scalar(
			'ensemble_telemetry_written_total',
			'counter',
			'Telemetry samples written.',
			m.telemetryWritten
		),
		...scalar(
			'ensemble_telemetry_refused_total',
			'counter',
			'Telemetry samples refused (queue full).',
			m.telemetryRefused
		),
		...scalar(
			'ensemble_telemetry_unstorable_total',
			'counter',
			'Telemetry samples the database refused for their content (dropped).',
			m.telemetryUnstorable
		),
		...scalar(
			'ensemble_frames_refused_total',
			'counter',
			'Frames refused at the socket (invalid JSON, invalid message, unstorable text).',
			m.framesRefused
		),
		...scalar(
			'ensemble_commands_unstorable_total',
			'counter',
			'Commands the database refused for their content (only their sender refused).',
			m.commandsUnstorable
		),
		...scalar(
			'ensemble_closed_rate_limited_total',
			'counter',
			'Connections closed for flooding.',
			m.closedRateLimited
		),
		...scalar(
			'ensemble_closed_replaced_total',
			'counter',
			'Sockets closed because a newer socket of the same identity took their place.',
			m.closedReplaced
		),
		...scalar(
			'ensemble_upgrades_throttled_total',
			'counter',
			'Socket upgrades refused with 429 (too many from one address).',
			m.upgradesThrottled
		),
		...scalar(
			'ensemble_telemetry_over_quota_total',
			'counter',
			'Telemetry samples refused by the per-participant quota.',
			m.telemetryOverQuota
		),
		...renderHistogram('ensemble_fanout_ms', 'Commit to local fan-out, ms.', m.fanoutMs),
		...renderHistogram(
			'ensemble_bus_lag_ms',
			'Commit on another replica to local fan-out, ms.',
			m.busLagMs
		)
	];
	for (const [name, value] of Object.entries(gauges)) {
		lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
	}
	return lines.join('\n') + '\n';
}
