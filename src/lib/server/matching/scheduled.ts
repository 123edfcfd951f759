import type { Database } from '../db';
import { withStudyLock } from './lock';
import { loadWaiters, type FormOptions } from './matched';
import { assignRoles, pickCondition } from './plan';
import {
	countConditionGroups,
	giveOutcome,
	GHOST_GRACE_MS,
	insertStudyRoom,
	markLeft,
	placeMembers,
	type FormationResult
} from './rooms';
import { splitCohort } from './schedule';
import { loadVersionSettings } from './versions';

export type FormCohortResult =
	({ ok: true } & FormationResult) | { ok: false; reason: 'not_started' };

/**
 * `scheduled` mode: starts the cohort due at `startAt`. Everyone who was waiting by then and is
 * still seen is in, split into rooms of at most `maxCohortSize` with balanced sizes; fewer than
 * `minCohortSize` and they all get `lobby_timeout`. Later arrivals wait for the next cohort.
 * Every replica may call it when the start comes: the first does the work under the study's
 * lock, the others find nobody left waiting for that start.
 */
export function formCohort(
	db: Database,
	studyId: string,
	startAt: Date,
	now: Date,
	options: FormOptions = {}
): Promise<FormCohortResult> {
	if (now.getTime() < startAt.getTime())
		return Promise.resolve({ ok: false, reason: 'not_started' });
	const random = options.random ?? Math.random;
	const grace = options.ghostGraceMs ?? GHOST_GRACE_MS;
	return withStudyLock(db, studyId, async (tx): Promise<FormCohortResult> => {
		const result: FormationResult = { groups: [], outcomes: [], removed: [] };
		let counts: Map<string, number> | null = null;
		for (const [version, list] of await loadWaiters(tx, studyId)) {
			const settings = await loadVersionSettings(tx, studyId, version);
			if (!settings || settings.session.mode !== 'scheduled') continue;
			const session = settings.session;
			const ghosts = list.filter((w) => w.lastSeenAt < now.getTime() - grace).map((w) => w.id);
			await markLeft(tx, ghosts);
			result.removed.push(...ghosts);
			const cohort = list
				.filter((w) => w.lastSeenAt >= now.getTime() - grace)
				.filter((w) => w.waitingSince <= startAt.getTime())
				.sort((a, b) => a.waitingSince - b.waitingSince || (a.id < b.id ? -1 : 1))
				.map((w) => w.id);
			if (cohort.length === 0) continue;
			if (cohort.length < session.minCohortSize) {
				result.outcomes.push(...(await giveOutcome(tx, cohort, 'lobby_timeout', now)));
				continue;
			}
			if (settings.conditions.assignment === 'balanced') {
				counts ??= await countConditionGroups(tx, studyId);
			}
			let offset = 0;
			for (const size of splitCohort(cohort.length, session.maxCohortSize)) {
				const ids = cohort.slice(offset, offset + size);
				offset += size;
				const roles = assignRoles(settings.roles, size, random);
				if (!roles) {
					// validateStudy refuses roles that cannot fit every cohort size, so a published
					// version never gets here; should it, nobody is left waiting forever.
					result.outcomes.push(...(await giveOutcome(tx, ids, 'lobby_timeout', now)));
					continue;
				}
				const condition = pickCondition(
					settings.conditions.list,
					settings.conditions.assignment,
					counts ?? new Map(),
					random
				);
				if (condition && counts) counts.set(condition, (counts.get(condition) ?? 0) + 1);
				const roomId = await insertStudyRoom(tx, { studyId, version, now });
				const members = ids.map((participantId, i) => ({
					participantId,
					role: roles[i] ?? null,
					condition
				}));
				await placeMembers(tx, roomId, members, ['waiting'], now);
				result.groups.push({ roomId, version, condition, members });
			}
		}
		return { ok: true, ...result };
	});
}
