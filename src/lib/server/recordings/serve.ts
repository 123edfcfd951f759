/**
 * A local recording file as a download: single-range requests (players and download managers
 * resume with `Range`), `If-Range` against a weak validator made of size and modification time,
 * 416 past the end. The path was authorized and located by the caller.
 */
import { stat } from 'node:fs/promises';
import { parseRange } from '../media/range';

const CONTENT_TYPES: Record<string, string> = {
	mp4: 'video/mp4',
	m4a: 'audio/mp4',
	webm: 'video/webm',
	ogg: 'audio/ogg',
	mkv: 'video/x-matroska',
	ts: 'video/mp2t',
	m3u8: 'application/vnd.apple.mpegurl'
};

/** The Content-Type for a recording's file name (LiveKit writes MP4 by default). */
export function contentTypeOf(filename: string): string {
	const extension = filename.split('.').at(-1)?.toLowerCase() ?? '';
	return CONTENT_TYPES[extension] ?? 'application/octet-stream';
}

/** `attachment` with RFC 6266's `filename*=`, so any name is safe in the header. */
function formatAttachment(filename: string): string {
	const encoded = encodeURIComponent(filename).replace(
		/['()*]/g,
		(char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`
	);
	return `attachment; filename*=UTF-8''${encoded}`;
}

/** The file at `path` as a response to `request` (GET or HEAD). */
export async function serveRecordingFile(
	path: string,
	filename: string,
	request: Request
): Promise<Response> {
	const info = await stat(path);
	const size = info.size;
	const etag = `W/"${size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
	const headers = new Headers({
		'accept-ranges': 'bytes',
		'content-type': contentTypeOf(filename),
		'content-disposition': formatAttachment(filename),
		etag,
		'cache-control': 'private, no-store',
		'cross-origin-resource-policy': 'same-origin'
	});
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
	headers.set('content-length', String(Math.max(0, end - start + 1)));
	const body =
		request.method === 'HEAD' || size === 0 ? null : Bun.file(path).slice(start, end + 1);
	return new Response(body, { status, headers });
}
