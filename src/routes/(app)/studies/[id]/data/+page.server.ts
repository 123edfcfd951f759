import { requireUser } from '$lib/server/auth/guards';
import { getDatabase } from '$lib/server/db';
import { listExportVersions } from '$lib/server/export';
import { measureStudyTelemetry } from '$lib/server/studies/storage';
import type { PageServerLoad } from './$types';

/**
 * The Data tab: the study's versions for the filter (the layout checked access), and the
 * telemetry its rooms store (streamed: the page does not wait for the sum).
 */
export const load: PageServerLoad = async ({ locals, url, params, parent }) => {
	requireUser(locals, url);
	const { studyNav } = await parent();
	const db = await getDatabase();
	const versions = await listExportVersions(db, params.id);
	return {
		versions: versions.map((v) => ({ version: v.version, publishedAt: v.publishedAt.toISOString() })),
		dataAccess: studyNav.dataAccess,
		storage: measureStudyTelemetry(db, params.id)
	};
};
