import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { checkSocketOrigin, type UpgradeDecision } from '../realtime/upgrade';
import { canEditStudy, loadStudyForUser } from '../studies/access';
import type { MonitorAuth } from './study-monitor';

export type MonitorUpgradeInput = {
	studyId: string;
	origin: string | null;
	/** The experimenter signed in by cookie (the authenticate hook); tickets do not open monitors. */
	user: SessionUser | null;
	sessionId: string | null;
};

export type MonitorUpgradeDecision =
	{ ok: true; auth: MonitorAuth } | Extract<UpgradeDecision, { ok: false }>;

/**
 * Whether a study-monitor socket may open: the same Origin check as room sockets, a signed-in
 * session, and access to the study (any access: viewers watch; interventions are checked again
 * where they are made). A study the user cannot see is "not found", as in the API.
 */
export async function decideMonitorUpgrade(
	input: MonitorUpgradeInput,
	deps: { db: Database; allowedOrigins: ReadonlySet<string> }
): Promise<MonitorUpgradeDecision> {
	const originRefused = checkSocketOrigin(input.origin, deps.allowedOrigins);
	if (originRefused) return originRefused;
	if (!input.user || !input.sessionId) {
		return {
			ok: false,
			status: 401,
			error: 'unauthenticated',
			message: 'Sign in to watch a study.'
		};
	}
	const found = await loadStudyForUser(deps.db, input.user, input.studyId);
	if (!found) {
		return { ok: false, status: 404, error: 'not_found', message: 'No such study.' };
	}
	// A dashboard opened with edit rights closes when they go (its page offers interventions).
	const needs = canEditStudy(found.access) ? 'edit' : 'view';
	return {
		ok: true,
		auth: {
			studyId: found.study.id,
			userId: input.user.id,
			sessionId: input.sessionId,
			access: found.access,
			grant: {
				userId: input.user.id,
				studyId: found.study.id,
				credential: { kind: 'session', id: input.sessionId },
				needs
			}
		}
	};
}
