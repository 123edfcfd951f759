import { authorizeApi } from '$lib/server/auth/guards';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { findMedia } from '$lib/server/media/library';
import { parseRange } from '$lib/server/media/range';
import { selectMediaStorage } from '$lib/server/media/storage';
import type { RequestHandler } from './$types';

/** `filename*=` of RFC 6266, so any name is safe in the header. */
function contentDisposition(filename: string): string {
	const encoded = encodeURIComponent(filename).replace(
		/['()*]/g,
		(char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`
	);
	return `inline; filename*=UTF-8''${encoded}`;
}

/**
 * The bytes of an item, with single-range support for seeking in players. Signed-in users
 * only for now; participants get access with the study runtime.
 */
async function serveMedia(
	locals: App.Locals,
	id: string,
	request: Request,
	withBody: boolean
): Promise<Response> {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const entry = await findMedia(await getDatabase(), id);
	if (!entry) return problemResponse(problem(404, 'not_found', 'There is no such media item.'));
	const storage = selectMediaStorage(getEnv(), entry.storage as 'disk' | 's3');
	if (!storage) {
		return problemResponse(
			problem(
				503,
				'storage_unavailable',
				`This item is stored in ${entry.storage}, which is not configured.`
			)
		);
	}
	const size = entry.sizeBytes;
	const etag = `"${entry.sha256}"`;
	const headers = new Headers({
		'accept-ranges': 'bytes',
		'content-type': entry.contentType,
		etag,
		'cache-control': 'private',
		'content-disposition': contentDisposition(entry.filename),
		// Only our own pages may embed the bytes.
		'cross-origin-resource-policy': 'same-origin'
	});
	if (
		request.headers
			.get('if-none-match')
			?.split(/\s*,\s*/)
			.includes(etag)
	) {
		return new Response(null, { status: 304, headers });
	}
	// A Range with a stale If-Range validator gets the whole, current representation.
	const ifRange = request.headers.get('if-range');
	const range =
		ifRange !== null && ifRange !== etag
			? ({ kind: 'full' } as const)
			: parseRange(request.headers.get('range'), size);
	if (range.kind === 'unsatisfiable') {
		headers.set('content-range', `bytes */${size}`);
		return new Response(null, { status: 416, headers });
	}
	const [start, end, status] =
		range.kind === 'partial' ? [range.start, range.end, 206] : [0, size - 1, 200];
	if (status === 206) headers.set('content-range', `bytes ${start}-${end}/${size}`);
	headers.set('content-length', String(end - start + 1));
	const body = withBody ? storage.slice(entry.storageKey, start, end + 1) : null;
	return new Response(body, { status, headers });
}

export const GET: RequestHandler = ({ locals, params, request }) =>
	serveMedia(locals, params.id, request, true);

export const HEAD: RequestHandler = ({ locals, params, request }) =>
	serveMedia(locals, params.id, request, false);
