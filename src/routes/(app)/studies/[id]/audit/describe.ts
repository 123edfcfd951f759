/**
 * How the audit page words an entry: a label per known action and the detail as short
 * `key: value` lines. Pure, so it is tested without a browser.
 */

const ACTION_LABELS: Record<string, string> = {
	'data.export': 'Exported a dataset',
	'participant.list': 'Viewed participants with external ids',
	'participant.export': "Downloaded a participant's data",
	'participant.erase': 'Erased a participant',
	'data_access.grant': 'Granted the data permission',
	'data_access.revoke': 'Revoked the data permission',
	'room.replay': 'Replayed a room'
};

/** A label for `action`; unknown actions (added by later features) read as themselves. */
export function describeAuditAction(action: string): string {
	return ACTION_LABELS[action] ?? action;
}

/** Lists longer than this are cut, with how many more there were. */
const MAX_LIST = 8;

function describeValue(value: unknown): string {
	if (value === null || value === undefined) return '—';
	if (Array.isArray(value)) {
		const shown = value.slice(0, MAX_LIST).map(describeValue).join(', ');
		const more = value.length - MAX_LIST;
		return more > 0 ? `${shown} (+${more} more)` : shown || 'none';
	}
	if (typeof value === 'object') {
		return Object.entries(value as Record<string, unknown>)
			.map(([key, inner]) => `${key} ${describeValue(inner)}`)
			.join(', ');
	}
	return String(value);
}

/** One line per detail field, in the order recorded: `counts: stageResponses 3, telemetry 12`. */
export function describeAuditDetail(detail: Record<string, unknown>): string[] {
	return Object.entries(detail).map(([key, value]) => `${key}: ${describeValue(value)}`);
}
