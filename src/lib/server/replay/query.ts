/**
 * The query strings of the rooms API (a trust boundary like any body): parsed with valibot,
 * a bad value is a 400 with the parameter named, never a silent default.
 */
import * as v from 'valibot';
import { ROOM_PLOT_NAMES, type RoomPlotName } from '../plots/types';
import type { Problem } from '../http/problem';
import { MAX_LISTED_ROOMS } from './rooms';
import { MAX_ROOM_ID_LENGTH } from './access';

const WholeNumber = (min: number, max: number) =>
	v.pipe(
		v.string(),
		v.regex(/^\d{1,15}$/, 'must be a whole number'),
		v.transform(Number),
		v.minValue(min, `must be at least ${min}`),
		v.maxValue(max, `must be at most ${max}`)
	);

const RoomListQuery = v.object({
	limit: v.optional(WholeNumber(1, MAX_LISTED_ROOMS)),
	after: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_ROOM_ID_LENGTH)))
});

const TimelineQuery = v.object({
	/** Also return the room's state right after this seq. */
	at: v.optional(WholeNumber(0, Number.MAX_SAFE_INTEGER))
});

export type QueryResult<T> = { ok: true; data: T } | { ok: false; problem: Problem };

function parseQuery<S extends v.GenericSchema<Record<string, string>, unknown>>(
	schema: S,
	params: URLSearchParams,
	keys: string[]
): QueryResult<v.InferOutput<S>> {
	const raw: Record<string, string> = {};
	for (const key of keys) {
		const value = params.get(key);
		if (value !== null) raw[key] = value;
	}
	const parsed = v.safeParse(schema, raw);
	if (parsed.success) return { ok: true, data: parsed.output };
	const issues = parsed.issues.map((issue) => ({
		path: issue.path?.map((item) => String(item.key)).join('.') ?? '',
		message: issue.message
	}));
	const first = issues[0]!;
	return {
		ok: false,
		problem: {
			status: 400,
			error: 'invalid_query',
			message: `${first.path}: ${first.message}`,
			issues
		}
	};
}

/** `?limit=&after=` of the room list. */
export function parseRoomListQuery(params: URLSearchParams) {
	return parseQuery(RoomListQuery, params, ['limit', 'after']);
}

/** `?at=<seq>` of the timeline. */
export function parseTimelineQuery(params: URLSearchParams) {
	return parseQuery(TimelineQuery, params, ['at']);
}

/** The plot name in the path, or null for one we do not draw. */
export function parseRoomPlotName(name: string): RoomPlotName | null {
	return (ROOM_PLOT_NAMES as readonly string[]).includes(name) ? (name as RoomPlotName) : null;
}
