import { OUTCOMES, type Outcome, type SessionSettings } from '../../study';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { loadVersionSettings } from '../matching/versions';
import { canEditStudy, loadStudyForUser } from '../studies/access';
import { getStudyLink } from '../studies/links';
import type { StudyStatus } from '../studies/types';

/** What the monitor page needs besides the live socket: names, the link, what the user may do. */
export type MonitorPageData = {
	studyId: string;
	status: StudyStatus;
	/** Interventions, manual matching and bots need edit access; viewers only watch. */
	canEdit: boolean;
	link: string;
	/** The latest published version's session settings (null before the first publish). */
	session: SessionSettings | null;
	/** Names of the latest version's conditions and roles, by id. */
	conditions: { id: string; name: string }[];
	roles: { id: string; name: string }[];
	outcomes: readonly Outcome[];
};

/** The monitor page's data; null when the study is not visible to `user`. */
export async function loadMonitorPage(
	db: Database,
	user: SessionUser,
	studyId: string
): Promise<MonitorPageData | null> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return null;
	const { study } = found;
	const settings =
		study.latestVersion === null
			? null
			: await loadVersionSettings(db, study.id, study.latestVersion);
	return {
		studyId: study.id,
		status: study.status,
		canEdit: canEditStudy(found.access),
		link: getStudyLink(study.slug),
		session: settings?.session ?? null,
		conditions: settings?.conditions.list.map(({ id, name }) => ({ id, name })) ?? [],
		roles: settings?.roles.map(({ id, name }) => ({ id, name })) ?? [],
		outcomes: OUTCOMES
	};
}
