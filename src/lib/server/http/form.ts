import * as v from 'valibot';
import { describeUnstorableText, findUnstorableText } from '../../protocol/text';

export type FormResult<T> =
	| { ok: true; data: T }
	| { ok: false; errors: Record<string, string>; values: Record<string, string> };

/**
 * The first text field (name or value) of a form that cannot be stored, with what is wrong;
 * null when every one can. Files are not looked at: their names are the upload's to check.
 */
export function findUnstorableField(formData: FormData): { field: string; message: string } | null {
	for (const [key, value] of formData) {
		const inKey = findUnstorableText(key);
		if (inKey) return { field: 'form', message: describeUnstorableText(inKey) };
		const inValue = typeof value === 'string' ? findUnstorableText(value) : null;
		if (inValue) return { field: key, message: describeUnstorableText(inValue) };
	}
	return null;
}

/**
 * Validates a submitted form against a schema. On failure returns one message per field (the
 * first issue) and the submitted values (never passwords) so the form can be shown again.
 * Text that cannot be stored is refused in any field, whatever the schema says.
 */
export function parseForm<S extends v.GenericSchema>(
	formData: FormData,
	schema: S
): FormResult<v.InferOutput<S>> {
	const input: Record<string, string> = {};
	for (const [key, value] of formData) if (typeof value === 'string') input[key] = value;
	const unstorable = findUnstorableField(formData);
	if (unstorable) {
		return {
			ok: false,
			errors: { [unstorable.field]: unstorable.message },
			values: safeValues(input)
		};
	}
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
