import * as v from 'valibot';
import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { describeIssues } from '$lib/server/http/json-body';
import { problemResponse } from '$lib/server/http/problem';
import {
	listStudyParticipants,
	ParticipantListQuery,
	respondPrivacyFailure
} from '$lib/server/privacy';
import type { RequestHandler } from './$types';

/**
 * The study's participants, newest first: `?q=&by=participant|external&externalIds=1&after=&limit=`.
 * External ids (shown or searched) need the data permission and are audited.
 */
export const GET: RequestHandler = async ({ locals, params, url }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const query = v.safeParse(ParticipantListQuery, Object.fromEntries(url.searchParams));
	if (!query.success) {
		return problemResponse({
			status: 400,
			error: 'invalid_query',
			message: query.issues[0].message,
			issues: describeIssues(query.issues)
		});
	}
	const result = await listStudyParticipants(
		await getDatabase(),
		auth.user,
		params.id,
		query.output
	);
	if (!result.ok) return respondPrivacyFailure(result);
	return Response.json({
		participants: result.participants,
		next: result.next,
		dataAccess: result.dataAccess
	});
};
