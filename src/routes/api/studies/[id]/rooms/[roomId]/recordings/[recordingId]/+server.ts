import { authorizeApi } from '$lib/server/auth/guards';
import { getEnv } from '$lib/server/config/env';
import { getDatabase } from '$lib/server/db';
import { problem, problemResponse } from '$lib/server/http/problem';
import { openRecordingDownload } from '$lib/server/recordings/recordings';
import { serveRecordingFile } from '$lib/server/recordings/serve';
import type { RequestHandler } from './$types';

/**
 * Downloads one recording: 303 to a presigned S3 URL (5 minutes) or the local file streamed
 * (Range supported). 404 for an unknown room or recording, 409 when there is no file to serve.
 * Audited as `recording.download`.
 */
export const GET: RequestHandler = async ({ locals, params, request }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await openRecordingDownload(
		await getDatabase(),
		auth.user,
		params.id,
		params.roomId,
		params.recordingId,
		getEnv()
	);
	if (!result.ok) {
		if (result.reason === 'no_file') {
			return problemResponse(problem(409, 'no_file', result.message));
		}
		return problemResponse(problem(404, 'not_found', 'No such recording.'));
	}
	if (result.kind === 'redirect') {
		return new Response(null, {
			status: 303,
			headers: { location: result.url, 'cache-control': 'no-store' }
		});
	}
	return serveRecordingFile(result.path, result.filename, request);
};
