import * as v from 'valibot';
import {
	describeUnstorableFinding,
	describeUnstorableText,
	findUnstorableInJson
} from '../../protocol/text';
import type { Problem } from './problem';

/** JSON bodies of API requests are small; anything larger is refused before parsing. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

export type BodyResult<T> = { ok: true; data: T } | { ok: false; problem: Problem };

function fail<T>(
	status: number,
	error: string,
	message: string,
	issues?: Problem['issues']
): BodyResult<T> {
	return { ok: false, problem: { status, error, message, ...(issues ? { issues } : {}) } };
}

/**
 * Deeper than any body we accept (a study definition nests about 8 levels): refusing it keeps
 * the storable-text walk, which stops at this depth, complete.
 */
const MAX_JSON_DEPTH = 32;

function isNestedWithin(value: unknown, depth: number): boolean {
	if (value === null || typeof value !== 'object') return true;
	if (depth === 0) return false;
	const children = Array.isArray(value) ? value : Object.values(value);
	return children.every((child) => isNestedWithin(child, depth - 1));
}

/** Reads at most `limit` bytes of the body; `undefined` when it is longer. */
async function readLimited(request: Request, limit: number): Promise<Uint8Array | undefined> {
	if (!request.body) return new Uint8Array();
	const reader = request.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > limit) {
			await reader.cancel();
			return undefined;
		}
		chunks.push(value);
	}
	const body = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		body.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return body;
}

/** Turns valibot issues into `{ path: 'email', message }` pairs. */
export function describeIssues(
	issues: readonly v.BaseIssue<unknown>[]
): NonNullable<Problem['issues']> {
	return issues.map((issue) => ({
		path: issue.path?.map((item) => String(item.key)).join('.') ?? '',
		message: issue.message
	}));
}

/**
 * Reads a JSON request body and validates it: 415 for another content type, 413 when over
 * the size limit (checked while streaming, not only by Content-Length), 400 for malformed
 * JSON, for text that cannot be stored anywhere in it (`unstorable_text`, whatever the schema
 * would keep: nothing of such a body is used) or a body the schema rejects, with every issue
 * listed.
 */
export async function readJsonBody<S extends v.GenericSchema>(
	request: Request,
	schema: S,
	limit = MAX_JSON_BODY_BYTES
): Promise<BodyResult<v.InferOutput<S>>> {
	const type = request.headers.get('content-type') ?? '';
	if (!/^application\/json\s*(;|$)/i.test(type)) {
		return fail(
			415,
			'unsupported_media_type',
			'Send the body as JSON (Content-Type: application/json).'
		);
	}
	const declared = Number(request.headers.get('content-length') ?? '0');
	const tooLarge = `The request body is larger than ${limit} bytes.`;
	if (declared > limit) return fail(413, 'body_too_large', tooLarge);
	const bytes = await readLimited(request, limit);
	if (!bytes) return fail(413, 'body_too_large', tooLarge);
	let parsed: unknown;
	try {
		parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
	} catch {
		return fail(400, 'invalid_json', 'The request body is not valid JSON.');
	}
	if (!isNestedWithin(parsed, MAX_JSON_DEPTH)) {
		return fail(400, 'invalid_body', `The request body is nested deeper than ${MAX_JSON_DEPTH}.`);
	}
	const unstorable = findUnstorableInJson(parsed, '', MAX_JSON_DEPTH);
	if (unstorable) {
		return fail(400, 'unstorable_text', describeUnstorableFinding(unstorable), [
			{ path: unstorable.path, message: describeUnstorableText(unstorable.problem) }
		]);
	}
	const result = v.safeParse(schema, parsed);
	if (!result.success) {
		return fail(
			400,
			'invalid_body',
			'The request body is not valid.',
			describeIssues(result.issues)
		);
	}
	return { ok: true, data: result.output };
}
