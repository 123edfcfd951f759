import type { Env } from '../config/env';
import type { MediaItem } from '../db/schema/media';
import { problem, problemResponse } from '../http/problem';
import { parseRange } from './range';
import { selectMediaStorage, type StorageKind } from './storage';

/** What serving needs of an item: its bytes' whereabouts and what to say about them. */
export type ServableMedia = Pick<
	MediaItem,
	'storage' | 'storageKey' | 'sizeBytes' | 'sha256' | 'contentType' | 'filename'
>;

export type ServeMediaOptions = {
	/** False for HEAD: the same status and headers, no bytes read. */
	withBody: boolean;
	env: Pick<Env, 'dataDir' | 's3'>;
};

/** `filename*=` of RFC 6266, so any name is safe in the header. */
function formatContentDisposition(filename: string): string {
	const encoded = encodeURIComponent(filename).replace(
		/['()*]/g,
		(char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`
	);
	return `inline; filename*=UTF-8''${encoded}`;
}

/**
 * The bytes of an item the caller has already authorized, with single-range support for
 * seeking in players: `Range` (206, or 416 past the end), `If-Range` (a stale validator gets
 * the whole file), `If-None-Match` (304 on our ETag, the content's SHA-256). 503 when the item
 * lives in a storage backend that is no longer configured.
 */
export function serveMediaEntry(
	entry: ServableMedia,
	request: Request,
	{ withBody, env }: ServeMediaOptions
): Response {
	const storage = selectMediaStorage(env, entry.storage as StorageKind);
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
		'content-disposition': formatContentDisposition(entry.filename),
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
