/**
 * A small structured logger: one line per event, `time level event key=value …`.
 * Never pass tokens, passwords or message bodies as fields.
 */

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;
type Fields = Record<string, string | number | boolean | null | undefined>;

function threshold(): number {
	const configured = process.env.LOG_LEVEL as LogLevel | undefined;
	return LEVELS[configured ?? 'info'] ?? LEVELS.info;
}

/**
 * Drizzle's error for a failed query ends with the query's parameters (`\nparams: …`): what a
 * participant or experimenter sent. Cut from every log field, so no call site that logs
 * `error.message` can leak them; `handleError` cuts them from stacks the same way.
 */
export function withholdParameters(text: string): string {
	const at = text.indexOf('\nparams: ');
	return at === -1 ? text : `${text.slice(0, at)} (parameters withheld)`;
}

function formatValue(value: Fields[string]): string {
	const text = withholdParameters(String(value));
	return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

function write(level: LogLevel, event: string, fields: Fields = {}): void {
	if (LEVELS[level] < threshold()) return;
	const parts = [new Date().toISOString(), level.padEnd(5), event];
	for (const [key, value] of Object.entries(fields)) {
		if (value !== undefined) parts.push(`${key}=${formatValue(value)}`);
	}
	const line = parts.join(' ');
	if (level === 'error' || level === 'warn') console.error(line);
	else console.log(line);
}

export const log = {
	debug: (event: string, fields?: Fields) => write('debug', event, fields),
	info: (event: string, fields?: Fields) => write('info', event, fields),
	warn: (event: string, fields?: Fields) => write('warn', event, fields),
	error: (event: string, fields?: Fields) => write('error', event, fields)
};

type Throttled = { until: number; suppressed: number };
const THROTTLE_KEY = Symbol.for('ensemble.logThrottle');
type ThrottleGlobal = { [THROTTLE_KEY]?: Map<string, Throttled> };

/**
 * Logs `event` at most once per `intervalMs` (per event name); the next line it writes counts
 * what was left out. For refused input: one abusive client must not be able to fill the disk
 * (a flush retried in a loop once wrote 76 MB in 90 s).
 */
export function logThrottled(
	level: LogLevel,
	event: string,
	fields: Fields = {},
	intervalMs = 10_000,
	now = Date.now()
): void {
	const store = ((globalThis as ThrottleGlobal)[THROTTLE_KEY] ??= new Map());
	const entry = store.get(event);
	if (entry && now < entry.until) {
		entry.suppressed++;
		return;
	}
	const suppressed = entry?.suppressed ?? 0;
	store.set(event, { until: now + intervalMs, suppressed: 0 });
	write(level, event, suppressed > 0 ? { ...fields, suppressed } : fields);
}
