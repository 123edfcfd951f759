import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { listExportVersions } from '$lib/server/export';
import type { PageServerLoad } from './$types';

/** The Data tab: the study's versions for the filter (the layout checked access). */
export const load: PageServerLoad = async ({ locals, url, params, parent }) => {
	requireUser(locals, url);
	const { studyNav } = await parent();
	const versions = await listExportVersions(await getDatabase(), params.id);
	return {
		versions: versions.map((v) => ({ version: v.version, publishedAt: v.publishedAt.toISOString() })),
		dataAccess: studyNav.dataAccess
	};
};
