import type { Condition, Role } from '$lib/study';

/**
 * The pure decisions of group formation: who forms a group, which roles they get, which
 * condition the group runs. No database, no clock, randomness injected, so the property tests
 * can drive them directly; the SQL around them lives in matched.ts, open.ts and scheduled.ts.
 */

/** A uniform random number in [0, 1); `Math.random` in production, seeded in tests. */
export type Random = () => number;

/** A participant in the waiting room, as matching sees it. */
export type Waiter = { id: string; waitingSince: number; lastSeenAt: number };

export type MatchedPlanInput = {
	/** Everyone waiting for this study version, in any order. */
	waiters: Waiter[];
	groupSize: number;
	minGroupSize: number;
	lobbyTimeoutMs: number;
	/** Waiters not seen since `now - ghostGraceMs` are ghosts: removed, never grouped. */
	ghostGraceMs: number;
	roles: Role[];
	now: number;
};

export type MatchedPlan = {
	/** Member ids of each group to form, oldest waiters first. */
	groups: string[][];
	/** Waiters whose lobby timeout passed with too few others: they get `lobby_timeout`. */
	timedOut: string[];
	/** Ghosts to take out of the waiting room (status `left`, no outcome). */
	ghosts: string[];
};

/** Oldest first; the id breaks ties so every replica sees the same order. */
function compareWaiters(a: Waiter, b: Waiter): number {
	return a.waitingSince - b.waitingSince || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Whether a group of `size` can give every role its minimum without exceeding any maximum. */
export function rolesFit(roles: Role[], size: number): boolean {
	if (roles.length === 0) return true;
	const least = roles.reduce((sum, role) => sum + role.minCount, 0);
	const unbounded = roles.some((role) => role.maxCount === null);
	const most = roles.reduce((sum, role) => sum + (role.maxCount ?? 0), 0);
	return least <= size && (unbounded || most >= size);
}

/**
 * Decides which groups form now in `matched` mode: full groups of `groupSize` from the oldest
 * waiters; then, if the oldest remaining waiter's lobby timeout has passed, the largest smaller
 * group (at least `minGroupSize`, roles satisfiable) of the remaining; failing that, every
 * remaining waiter whose timeout passed gets `lobby_timeout`.
 */
export function planMatchedGroups(input: MatchedPlanInput): MatchedPlan {
	const seenSince = input.now - input.ghostGraceMs;
	const ghosts = input.waiters.filter((w) => w.lastSeenAt < seenSince).map((w) => w.id);
	const queue = input.waiters.filter((w) => w.lastSeenAt >= seenSince).sort(compareWaiters);
	const groups: string[][] = [];
	const timedOut: string[] = [];
	const size = Math.max(1, input.groupSize);
	if (rolesFit(input.roles, size)) {
		while (queue.length >= size) groups.push(queue.splice(0, size).map((w) => w.id));
	}
	const expired = (w: Waiter) => w.waitingSince + input.lobbyTimeoutMs <= input.now;
	const oldest = queue[0];
	if (oldest && expired(oldest)) {
		let smaller = Math.min(queue.length, size);
		while (smaller >= input.minGroupSize && smaller > 0 && !rolesFit(input.roles, smaller))
			smaller -= 1;
		if (smaller >= Math.max(1, input.minGroupSize)) {
			groups.push(queue.splice(0, smaller).map((w) => w.id));
		} else {
			for (const w of queue) if (expired(w)) timedOut.push(w.id);
		}
	}
	return { groups, timedOut, ghosts };
}

/** Fisher–Yates with the injected random source. */
export function shuffle<T>(items: readonly T[], random: Random): T[] {
	const out = [...items];
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		const held = out[i] as T;
		out[i] = out[j] as T;
		out[j] = held;
	}
	return out;
}

/** One of `items` (which must not be empty) at random. */
function pick<T>(items: readonly T[], random: Random): T {
	return items[Math.min(items.length - 1, Math.floor(random() * items.length))] as T;
}

/**
 * The role of each of `size` members (index = member): every role's `minCount` first, the
 * remaining seats drawn at random among roles with room left under `maxCount`, then shuffled so
 * which member gets which role is random. Null when the roles cannot fit `size`; an empty role
 * list gives every member the null role.
 */
export function assignRoles(roles: Role[], size: number, random: Random): (string | null)[] | null {
	if (roles.length === 0) return Array.from({ length: size }, () => null);
	if (!rolesFit(roles, size)) return null;
	const counts = new Map(roles.map((role) => [role.id, 0]));
	const seats: string[] = [];
	for (const role of roles) {
		for (let i = 0; i < role.minCount; i++) seats.push(role.id);
		counts.set(role.id, role.minCount);
	}
	while (seats.length < size) {
		const open = roles.filter((r) => r.maxCount === null || (counts.get(r.id) ?? 0) < r.maxCount);
		const role = pick(open, random);
		seats.push(role.id);
		counts.set(role.id, (counts.get(role.id) ?? 0) + 1);
	}
	return shuffle(seats, random);
}

/**
 * The role for one more member of an open room that already has `taken` (role → count): a role
 * still short of its minimum first, otherwise any role with room left; null when there are no
 * roles; `undefined` when every role is at its maximum (the room is full for these roles).
 */
export function chooseNextRole(
	roles: Role[],
	taken: ReadonlyMap<string, number>,
	random: Random
): string | null | undefined {
	if (roles.length === 0) return null;
	const count = (role: Role) => taken.get(role.id) ?? 0;
	const short = roles.filter((role) => count(role) < role.minCount);
	if (short.length > 0) return pick(short, random).id;
	const open = roles.filter((role) => role.maxCount === null || count(role) < role.maxCount);
	return open.length > 0 ? pick(open, random).id : undefined;
}

/**
 * The condition of a new group. `random`: uniform. `balanced`: the condition with the fewest
 * groups in `groupCounts` (what counts as a group is the caller's choice, see
 * countConditionGroups), ties broken at random. Null when the study has no conditions.
 */
export function pickCondition(
	conditions: Condition[],
	assignment: 'random' | 'balanced',
	groupCounts: ReadonlyMap<string, number>,
	random: Random
): string | null {
	if (conditions.length === 0) return null;
	if (assignment === 'random') return pick(conditions, random).id;
	const fewest = Math.min(...conditions.map((c) => groupCounts.get(c.id) ?? 0));
	return pick(
		conditions.filter((c) => (groupCounts.get(c.id) ?? 0) === fewest),
		random
	).id;
}
