import type { SessionUser } from '../auth/sessions';
import { recordAudit } from '../audit/record';
import type { Database } from '../db';
import { loadStudyForUser } from '../studies/access';
import { findParticipants, type ParticipantPage } from './find';
import type { ParticipantListQuery } from './schemas';

export type ParticipantListResult =
	| ({ ok: true; dataAccess: boolean; externalIdsShown: boolean } & ParticipantPage)
	/** `data_permission`: external ids were asked for (shown or searched) without it. */
	| { ok: false; reason: 'not_found' | 'data_permission' };

/**
 * The participants of a study for anyone who can see it. External ids (shown, or searched
 * for) need the data permission; asking without it is refused and nothing is read. Every list
 * that reaches external ids writes one audit entry, before the ids leave.
 */
export async function listStudyParticipants(
	db: Database,
	user: SessionUser,
	studyId: string,
	query: ParticipantListQuery
): Promise<ParticipantListResult> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	const searchesExternal = query.by === 'external' && query.q !== '';
	const reachesExternal = query.externalIds || searchesExternal;
	if (reachesExternal && !found.dataAccess) return { ok: false, reason: 'data_permission' };
	const page = await findParticipants(db, studyId, {
		text: query.q,
		by: query.by,
		includeExternalIds: query.externalIds,
		after: query.after,
		limit: query.limit
	});
	if (reachesExternal) {
		await recordAudit(db, {
			user,
			studyId,
			action: 'participant.list',
			detail: {
				externalIds: query.externalIds,
				// Which kind of lookup, never the searched value: it is an external id itself.
				search: searchesExternal ? 'external_id' : query.q === '' ? null : 'participant_id',
				count: page.participants.length,
				participantIds: page.participants.map((p) => p.id)
			}
		});
	}
	return {
		ok: true,
		dataAccess: found.dataAccess,
		externalIdsShown: query.externalIds,
		...page
	};
}
