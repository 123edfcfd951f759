import { and, eq } from 'drizzle-orm';
import type { Database, Executor } from '../db';
import { participants } from '../db/schema';
import { withStudyLock } from './lock';
import { assignRoles, pickCondition, planMatchedGroups, type Random, type Waiter } from './plan';
import {
	countConditionGroups,
	giveOutcome,
	GHOST_GRACE_MS,
	insertStudyRoom,
	markLeft,
	placeMembers,
	type FormationResult,
	type FormedGroup
} from './rooms';
import { loadVersionSettings } from './versions';

export type FormOptions = {
	/** Randomness for roles and conditions; `Math.random` by default. */
	random?: Random;
	/** Overrides GHOST_GRACE_MS (tests). */
	ghostGraceMs?: number;
};

/** The waiting participants of a study, grouped by the version they entered. */
export async function loadWaiters(tx: Executor, studyId: string): Promise<Map<number, Waiter[]>> {
	const rows = await tx
		.select({
			id: participants.id,
			version: participants.version,
			waitingSince: participants.waitingSince,
			lastSeenAt: participants.lastSeenAt
		})
		.from(participants)
		.where(and(eq(participants.studyId, studyId), eq(participants.status, 'waiting')));
	const byVersion = new Map<number, Waiter[]>();
	for (const row of rows) {
		const list = byVersion.get(row.version) ?? [];
		list.push({
			id: row.id,
			// A waiting row always has waiting_since; the fallback only keeps the type honest.
			waitingSince: (row.waitingSince ?? row.lastSeenAt).getTime(),
			lastSeenAt: row.lastSeenAt.getTime()
		});
		byVersion.set(row.version, list);
	}
	return byVersion;
}

/**
 * One formation pass for a `matched` study: removes ghosts, forms every group that can form now
 * (full groups of the oldest waiters; a smaller one once a lobby timeout passed), gives
 * `lobby_timeout` to timed-out waiters who cannot be grouped, and assigns roles and conditions.
 * Safe to call from every replica at once, as often as wanted: the study's advisory lock makes
 * passes run one after another, and each sees the previous one's result. Groups never mix
 * versions (a room runs one version). Waiters of versions in another mode are left alone.
 */
export function formGroups(
	db: Database,
	studyId: string,
	now: Date,
	options: FormOptions = {}
): Promise<FormationResult> {
	const random = options.random ?? Math.random;
	return withStudyLock(db, studyId, async (tx) => {
		const result: FormationResult = { groups: [], outcomes: [], removed: [] };
		const waiters = await loadWaiters(tx, studyId);
		let counts: Map<string, number> | null = null;
		for (const [version, list] of waiters) {
			const settings = await loadVersionSettings(tx, studyId, version);
			if (!settings || settings.session.mode !== 'matched') continue;
			const session = settings.session;
			const plan = planMatchedGroups({
				waiters: list,
				groupSize: session.groupSize,
				minGroupSize: session.minGroupSize,
				lobbyTimeoutMs: session.lobbyTimeoutSeconds * 1000,
				ghostGraceMs: options.ghostGraceMs ?? GHOST_GRACE_MS,
				roles: settings.roles,
				now: now.getTime()
			});
			await markLeft(tx, plan.ghosts);
			result.removed.push(...plan.ghosts);
			result.outcomes.push(...(await giveOutcome(tx, plan.timedOut, 'lobby_timeout', now)));
			if (plan.groups.length > 0 && settings.conditions.assignment === 'balanced') {
				counts ??= await countConditionGroups(tx, studyId);
			}
			for (const ids of plan.groups) {
				// planMatchedGroups only forms sizes the roles fit, so this is never null.
				const roles = assignRoles(settings.roles, ids.length, random) ?? ids.map(() => null);
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
				const group: FormedGroup = { roomId, version, condition, members };
				result.groups.push(group);
			}
		}
		return result;
	});
}
