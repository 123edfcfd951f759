import { authorizeApi } from '$lib/server/auth/guards';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { describeMedia, listMedia } from '$lib/server/media/library';
import { selectMediaStorage } from '$lib/server/media/storage';
import { storeUpload, uploadTempDir } from '$lib/server/media/upload';
import type { RequestHandler } from './$types';

const UPLOAD_STATUS = {
	too_large: 413,
	unsupported_type: 415,
	mismatch: 415,
	unplayable: 415,
	empty: 400,
	no_filename: 400,
	invalid_filename: 400,
	interrupted: 400
} as const;

/** The file name from `X-Filename` (URI-encoded, so any name fits a header) or `?filename=`. */
function readFilename(request: Request, url: URL): string | null {
	const header = request.headers.get('x-filename');
	if (header === null) return url.searchParams.get('filename');
	try {
		return decodeURIComponent(header);
	} catch {
		return header;
	}
}

/** The whole library, newest first (every signed-in user). */
export const GET: RequestHandler = async ({ locals }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const media = await listMedia(await getDatabase());
	return Response.json({ media: media.map(describeMedia) });
};

/**
 * Uploads one file as the raw request body, its type in Content-Type and its name in
 * `X-Filename` or `?filename=` (researchers and admins).
 */
export const POST: RequestHandler = async ({ locals, request, url }) => {
	const auth = authorizeApi(locals, ['admin', 'researcher']);
	if (!auth.ok) return problemResponse(auth.problem);
	const env = getEnv();
	// The Bun entry lifts the idle timeout for uploads (src/server.ts); `vite dev` has none.
	const declared = request.headers.get('content-length');
	const result = await storeUpload(await getDatabase(), selectMediaStorage(env)!, {
		ownerId: auth.user.id,
		filename: readFilename(request, url),
		claimedType: request.headers.get('content-type'),
		body: request.body,
		declaredBytes: declared === null ? null : Number(declared),
		maxBytes: env.mediaMaxSize,
		tempDir: uploadTempDir(env.dataDir),
		now: new Date()
	});
	if (!result.ok) {
		return problemResponse(problem(UPLOAD_STATUS[result.reason], result.reason, result.message));
	}
	const media = describeMedia({ ...result.item, ownerName: auth.user.name });
	return Response.json({ media }, { status: 201, headers: { location: `/api/media/${media.id}` } });
};
