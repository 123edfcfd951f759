import * as v from 'valibot';

/**
 * Valibot schemas for what the participants page and API accept: a participant id in a path,
 * and the list's query (search, whether to show external ids, the page).
 */

/** Participant ids are `p-` plus a random string; tests and older rows use other safe ids. */
export const ParticipantId = v.pipe(
	v.string('The participant id must be text.'),
	v.regex(/^[\w.:-]{1,64}$/, 'That is not a participant id.')
);

/** How many participants one page lists at most. */
export const MAX_PARTICIPANT_PAGE = 200;
const DEFAULT_PARTICIPANT_PAGE = 50;

/** `<created ms>.<participant id>` of the last row of the previous page. */
const Cursor = v.pipe(
	v.string(),
	v.regex(/^\d{1,15}\.[\w.:-]{1,64}$/, 'The page cursor is not valid; start from the first page.')
);

const Flag = v.pipe(
	v.optional(v.picklist(['0', '1', 'false', 'true'], 'Use 1 or 0.'), '0'),
	v.transform((value) => value === '1' || value === 'true')
);

/**
 * `?q=…&by=participant|external&externalIds=1&after=…&limit=…`. `by=external` looks `q` up
 * among external ids (e.g. a Prolific PID) and `externalIds=1` shows them: both need the data
 * permission.
 */
export const ParticipantListQuery = v.object({
	q: v.optional(
		v.pipe(v.string(), v.trim(), v.maxLength(200, 'Search for at most 200 characters.')),
		''
	),
	by: v.optional(
		v.picklist(['participant', 'external'], 'Search by participant id or by external id.'),
		'participant'
	),
	externalIds: Flag,
	after: v.optional(Cursor),
	limit: v.pipe(
		v.optional(v.string(), String(DEFAULT_PARTICIPANT_PAGE)),
		v.regex(/^\d{1,4}$/, 'The limit must be a whole number.'),
		v.transform(Number),
		v.minValue(1, 'The limit must be at least 1.'),
		v.maxValue(MAX_PARTICIPANT_PAGE, `The limit is at most ${MAX_PARTICIPANT_PAGE}.`)
	)
});
export type ParticipantListQuery = v.InferOutput<typeof ParticipantListQuery>;

/** The erase form: the participant and the id typed again to confirm. */
export const EraseForm = v.object({
	participantId: ParticipantId,
	confirm: v.pipe(v.string(), v.trim())
});
