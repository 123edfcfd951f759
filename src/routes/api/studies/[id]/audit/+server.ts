import * as v from 'valibot';
import { AuditPageQuery, readStudyAudit } from '$lib/server/audit';
import { authorizeApi } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { describeIssues } from '$lib/server/http/json-body';
import { problem, problemResponse } from '$lib/server/http/problem';
import type { RequestHandler } from './$types';

/** The study's audit log, newest first: `?before=<id>&limit=` (anyone who can see the study). */
export const GET: RequestHandler = async ({ locals, params, url }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const query = v.safeParse(AuditPageQuery, Object.fromEntries(url.searchParams));
	if (!query.success) {
		return problemResponse({
			status: 400,
			error: 'invalid_query',
			message: query.issues[0].message,
			issues: describeIssues(query.issues)
		});
	}
	const result = await readStudyAudit(await getDatabase(), auth.user, params.id, query.output);
	if (!result.ok) return problemResponse(problem(404, 'not_found', 'No such study.'));
	return Response.json({ events: result.events, next: result.next });
};
