import * as v from 'valibot';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { withStudyLock } from '../matching/lock';
import { loadWaiters } from '../matching/matched';
import { assignRoles, pickCondition, type Random } from '../matching/plan';
import {
	countConditionGroups,
	GHOST_GRACE_MS,
	insertStudyRoom,
	placeMembers,
	type FormedGroup
} from '../matching/rooms';
import { loadVersionSettings } from '../matching/versions';
import { canEditStudy, loadStudyForUser } from '../studies/access';

/** The largest group a study allows (the schema's group size and capacity limit). */
const MAX_GROUP = 64;

/** `POST /api/studies/<id>/monitor/match`: the waiting participants to form one group from. */
export const ManualMatchRequestSchema = v.strictObject({
	participantIds: v.pipe(
		v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
		v.minLength(1, 'Choose at least one participant.'),
		v.maxLength(MAX_GROUP, `At most ${MAX_GROUP} participants form one group.`),
		v.check((ids) => new Set(ids).size === ids.length, 'Each participant only once.')
	)
});
export type ManualMatchRequest = v.InferOutput<typeof ManualMatchRequestSchema>;

export type ManualMatchResult =
	| { ok: true; group: FormedGroup }
	| { ok: false; reason: 'not_found' | 'forbidden' }
	/** Some of them are no longer waiting (matched meanwhile, left, or unseen for too long). */
	| { ok: false; reason: 'not_waiting'; participantIds: string[] }
	| { ok: false; reason: 'mixed_versions' | 'roles_do_not_fit' };

/**
 * "Form a group from those waiting now": puts the chosen waiters into one new room, with roles
 * and a condition assigned as automatic matching would (roles must fit the group's size; a
 * balanced condition counts the same groups). Runs under the study's matching lock, so it
 * never races the formation runner: whoever comes second finds the participants gone.
 */
export async function formGroupManually(
	db: Database,
	user: SessionUser,
	studyId: string,
	request: ManualMatchRequest,
	now: Date,
	random: Random = Math.random
): Promise<ManualMatchResult> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	if (!canEditStudy(found.access)) return { ok: false, reason: 'forbidden' };
	return withStudyLock(db, studyId, async (tx): Promise<ManualMatchResult> => {
		const byVersion = await loadWaiters(tx, studyId);
		const seenSince = now.getTime() - GHOST_GRACE_MS;
		const waiting = new Map(
			[...byVersion].flatMap(([version, list]) =>
				list.filter((w) => w.lastSeenAt >= seenSince).map((w) => [w.id, { ...w, version }] as const)
			)
		);
		const gone = request.participantIds.filter((id) => !waiting.has(id));
		if (gone.length > 0) return { ok: false, reason: 'not_waiting', participantIds: gone };
		// Oldest first, as automatic matching orders a group.
		const chosen = request.participantIds
			.map((id) => waiting.get(id)!)
			.sort((a, b) => a.waitingSince - b.waitingSince || (a.id < b.id ? -1 : 1));
		const versions = new Set(chosen.map((w) => w.version));
		if (versions.size > 1) return { ok: false, reason: 'mixed_versions' };
		const version = chosen[0]!.version;
		const settings = await loadVersionSettings(tx, studyId, version);
		const roles = settings && assignRoles(settings.roles, chosen.length, random);
		if (!settings || !roles) return { ok: false, reason: 'roles_do_not_fit' };
		const counts =
			settings.conditions.assignment === 'balanced'
				? await countConditionGroups(tx, studyId)
				: new Map<string, number>();
		const condition = pickCondition(
			settings.conditions.list,
			settings.conditions.assignment,
			counts,
			random
		);
		const roomId = await insertStudyRoom(tx, { studyId, version, now });
		const members = chosen.map((w, i) => ({
			participantId: w.id,
			role: roles[i] ?? null,
			condition
		}));
		await placeMembers(tx, roomId, members, ['waiting'], now);
		return { ok: true, group: { roomId, version, condition, members } };
	});
}
