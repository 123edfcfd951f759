import * as v from 'valibot';
import { Email } from '../auth/schemas';
import { STUDY_PERMISSIONS } from '../db/schema';

/** Valibot schemas for the studies REST API's bodies and query parameters. */

/** Study documents may be large (long consent texts, many stages); other bodies stay small. */
export const STUDY_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

export const CreateStudyBody = v.object({
	title: v.optional(
		v.pipe(
			v.string('The title must be text.'),
			v.trim(),
			v.maxLength(200, 'Use at most 200 characters.')
		)
	),
	templateId: v.optional(
		v.pipe(v.string('The template id must be text.'), v.maxLength(64, 'Unknown template.'))
	)
});
export type CreateStudyBody = v.InferOutput<typeof CreateStudyBody>;

export const SaveDraftBody = v.object({
	/** Shape-checked by `saveDraft`, which reports every issue with its path. */
	definition: v.unknown(),
	revision: v.pipe(
		v.number('The revision must be a number.'),
		v.integer('The revision must be a whole number.'),
		v.minValue(1, 'The revision starts at 1.')
	)
});
export type SaveDraftBody = v.InferOutput<typeof SaveDraftBody>;

/** An export document or a bare definition; `importStudy` checks which and its shape. */
export const ImportStudyBody = v.pipe(
	v.unknown(),
	v.check(
		(input) => typeof input === 'object' && input !== null && !Array.isArray(input),
		'Send an exported study or a study definition (a JSON object).'
	)
);

export const ShareStudyBody = v.object({
	email: Email,
	permission: v.picklist(STUDY_PERMISSIONS, 'Choose edit or view.'),
	/** The data permission; left out keeps what the colleague has. */
	dataAccess: v.optional(v.boolean('dataAccess must be true or false.'))
});
export type ShareStudyBody = v.InferOutput<typeof ShareStudyBody>;

/** `?version=N` of an export: absent (the draft) or a positive whole number. */
export function parseExportVersion(
	value: string | null
): { ok: true; version: number | undefined } | { ok: false } {
	if (value === null || value === '') return { ok: true, version: undefined };
	if (!/^[1-9]\d{0,8}$/.test(value)) return { ok: false };
	return { ok: true, version: Number(value) };
}
