import { error } from '@sveltejs/kit';
import * as v from 'valibot';
import { AuditPageQuery, readStudyAudit } from '$lib/server/audit';
import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import type { PageServerLoad } from './$types';

/** The study's audit log, newest first, a page at a time (`?before=<id>`). */
export const load: PageServerLoad = async ({ locals, url, params }) => {
	const user = requireUser(locals, url);
	const query = v.safeParse(AuditPageQuery, Object.fromEntries(url.searchParams));
	if (!query.success) error(400, query.issues[0].message);
	const result = await readStudyAudit(await getDatabase(), user, params.id, query.output);
	if (!result.ok) error(404, 'No such study, or it is not shared with you.');
	return {
		events: result.events.map((event) => ({ ...event, at: event.at.toISOString() })),
		next: result.next,
		paged: query.output.before !== undefined
	};
};
