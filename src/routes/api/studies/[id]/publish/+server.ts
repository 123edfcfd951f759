import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { problemResponse } from '$lib/server/http/problem';
import { publishStudy, respondNotPublishable, respondStudyFailure } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/**
 * Publishes the draft and puts the study live: 201 with a new version, 200 when the draft
 * equals the latest version, 422 with the issues when it cannot be published.
 */
export const POST: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await publishStudy(await getDatabase(), auth.user, params.id);
	if (!result.ok) {
		return result.reason === 'invalid'
			? respondNotPublishable(result.issues)
			: respondStudyFailure(result);
	}
	const { version, contentHash, created, link } = result;
	return Response.json({ version, contentHash, created, link }, { status: created ? 201 : 200 });
};
