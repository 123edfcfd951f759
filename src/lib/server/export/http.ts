/**
 * HTTP answers of the data API: a download with its headers, and one wording and status per
 * expected failure.
 */
import { problem, problemResponse } from '../http/problem';
import type { ExportDownload, ExportFailure } from './service';

/** The JSON error response of an expected export failure. */
export function respondExportFailure(failure: ExportFailure): Response {
	switch (failure.reason) {
		case 'not_found':
			return problemResponse(problem(404, 'not_found', 'No such study.'));
		case 'external_ids_forbidden':
			return problemResponse(
				problem(
					403,
					'data_permission_required',
					'External ids (e.g. Prolific ids) need the data permission on this study. Ask its owner to grant it, or export without externalIds.'
				)
			);
		case 'wrong_format':
			return problemResponse(problem(400, 'invalid_format', failure.message));
	}
}

/** The streamed download: an attachment that is never cached or sniffed. */
export function respondDownload(download: ExportDownload): Response {
	return new Response(download.body, {
		headers: {
			'content-type': download.contentType,
			'content-disposition': `attachment; filename="${download.filename}"`,
			'cache-control': 'no-store',
			'x-content-type-options': 'nosniff'
		}
	});
}
