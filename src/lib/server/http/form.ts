import * as v from 'valibot';

export type FormResult<T> =
	| { ok: true; data: T }
	| { ok: false; errors: Record<string, string>; values: Record<string, string> };

/**
 * Validates a submitted form against a schema. On failure returns one message per field (the
 * first issue) and the submitted values (never passwords) so the form can be shown again.
 */
export function parseForm<S extends v.GenericSchema>(
	formData: FormData,
	schema: S
): FormResult<v.InferOutput<S>> {
	const input: Record<string, string> = {};
	for (const [key, value] of formData) if (typeof value === 'string') input[key] = value;
	const result = v.safeParse(schema, input);
	if (result.success) return { ok: true, data: result.output };
	const errors: Record<string, string> = {};
	for (const issue of result.issues) {
		const field = issue.path?.[0]?.key;
		const key = typeof field === 'string' ? field : 'form';
		errors[key] ??= issue.message;
	}
	return { ok: false, errors, values: safeValues(input) };
}

/** Submitted values to echo back into a form, without secrets. */
export function safeValues(input: Record<string, string>): Record<string, string> {
	const { password, confirm, current, ...rest } = input;
	return rest;
}
