import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { expectedWait } from '../../src/lib/server/matching/estimate';
import { generateInviteCode, normalizeInviteCode } from '../../src/lib/server/matching/invite-code';
import {
	assignRoles,
	chooseNextRole,
	pickCondition,
	planMatchedGroups,
	rolesFit,
	type Waiter
} from '../../src/lib/server/matching/plan';
import { nextCohortStart, splitCohort } from '../../src/lib/server/matching/schedule';
import type { Role } from '../../src/lib/study';

/** A deterministic random source for fast-check (a seed → a sequence in [0, 1)). */
function seeded(seed: number): () => number {
	let state = seed >>> 0 || 1;
	return () => {
		state ^= state << 13;
		state ^= state >>> 17;
		state ^= state << 5;
		return (state >>> 0) / 2 ** 32;
	};
}

const NOW = 1_000_000;
const GRACE = 20_000;

const waiterArb = fc.record({
	id: fc.uuid(),
	waitingSince: fc.integer({ min: NOW - 200_000, max: NOW }),
	lastSeenAt: fc.integer({ min: NOW - 40_000, max: NOW })
});

const rolesArb: fc.Arbitrary<Role[]> = fc
	.array(
		fc
			.tuple(fc.integer({ min: 0, max: 3 }), fc.option(fc.integer({ min: 1, max: 5 })))
			.map(([min, max]) => ({
				minCount: min,
				maxCount: max === null ? null : Math.max(min, max, 1)
			})),
		{ maxLength: 4 }
	)
	.map((list) => list.map((r, i) => ({ id: `r${i}`, name: `R${i}`, ...r })));

describe('planMatchedGroups', () => {
	test('never puts a waiter in two groups or a group over size; ghosts are never grouped', () => {
		fc.assert(
			fc.property(
				fc.uniqueArray(waiterArb, { selector: (w) => w.id, maxLength: 60 }),
				fc.integer({ min: 1, max: 8 }),
				fc.integer({ min: 1, max: 8 }),
				rolesArb,
				(waiters: Waiter[], groupSize, minRaw, roles) => {
					const minGroupSize = Math.min(minRaw, groupSize);
					const plan = planMatchedGroups({
						waiters,
						groupSize,
						minGroupSize,
						lobbyTimeoutMs: 60_000,
						ghostGraceMs: GRACE,
						roles,
						now: NOW
					});
					const placed = plan.groups.flat();
					const touched = [...placed, ...plan.timedOut, ...plan.ghosts];
					expect(new Set(touched).size).toBe(touched.length);
					const ghosts = new Set(
						waiters.filter((w) => w.lastSeenAt < NOW - GRACE).map((w) => w.id)
					);
					expect(new Set(plan.ghosts)).toEqual(ghosts);
					for (const group of plan.groups) {
						expect(group.length).toBeLessThanOrEqual(groupSize);
						expect(group.length).toBeGreaterThanOrEqual(minGroupSize);
						expect(rolesFit(roles, group.length)).toBe(true);
						for (const id of group) expect(ghosts.has(id)).toBe(false);
					}
				}
			)
		);
	});

	test('full groups take the oldest waiters; a timeout forms a smaller group only with enough', () => {
		const w = (id: string, since: number): Waiter => ({ id, waitingSince: since, lastSeenAt: NOW });
		const base = {
			groupSize: 3,
			minGroupSize: 2,
			lobbyTimeoutMs: 60_000,
			ghostGraceMs: GRACE,
			roles: [],
			now: NOW
		};
		const waiters = [w('d', NOW - 10), w('a', NOW - 40), w('c', NOW - 20), w('b', NOW - 30)];
		expect(planMatchedGroups({ ...base, waiters }).groups).toEqual([['a', 'b', 'c']]);
		const late = [w('x', NOW - 70_000), w('y', NOW - 1000)];
		expect(planMatchedGroups({ ...base, waiters: late }).groups).toEqual([['x', 'y']]);
		const alone = [w('x', NOW - 70_000)];
		expect(planMatchedGroups({ ...base, waiters: alone })).toEqual({
			groups: [],
			timedOut: ['x'],
			ghosts: []
		});
	});
});

describe('assignRoles', () => {
	test('meets every minimum and no maximum, for any size the roles fit', () => {
		fc.assert(
			fc.property(rolesArb, fc.integer({ min: 1, max: 12 }), fc.integer(), (roles, size, seed) => {
				const assigned = assignRoles(roles, size, seeded(seed));
				if (!rolesFit(roles, size)) return expect(assigned).toBeNull();
				expect(assigned).toHaveLength(size);
				for (const role of roles) {
					const n = assigned!.filter((r) => r === role.id).length;
					expect(n).toBeGreaterThanOrEqual(role.minCount);
					if (role.maxCount !== null) expect(n).toBeLessThanOrEqual(role.maxCount);
				}
			})
		);
	});

	test('open rooms fill short roles first and stop at the maxima', () => {
		const roles: Role[] = [
			{ id: 'host', name: 'Host', minCount: 1, maxCount: 1 },
			{ id: 'guest', name: 'Guest', minCount: 0, maxCount: 2 }
		];
		expect(chooseNextRole(roles, new Map(), () => 0.99)).toBe('host');
		expect(chooseNextRole(roles, new Map([['host', 1]]), () => 0)).toBe('guest');
		expect(
			chooseNextRole(
				roles,
				new Map([
					['host', 1],
					['guest', 2]
				]),
				() => 0
			)
		).toBeUndefined();
		expect(chooseNextRole([], new Map(), () => 0)).toBeNull();
	});
});

describe('pickCondition', () => {
	const conditions = ['a', 'b', 'c'].map((id) => ({ id, name: id }));
	test('balanced picks a condition with the fewest groups', () => {
		fc.assert(
			fc.property(fc.array(fc.nat(20), { minLength: 3, maxLength: 3 }), fc.integer(), (n, seed) => {
				const counts = new Map(conditions.map((c, i) => [c.id, n[i]!]));
				const chosen = pickCondition(conditions, 'balanced', counts, seeded(seed));
				expect(counts.get(chosen!)).toBe(Math.min(...n));
			})
		);
	});
	test('balanced over many groups keeps every condition within one of the others', () => {
		const counts = new Map<string, number>();
		const random = seeded(7);
		for (let i = 0; i < 31; i++) {
			const c = pickCondition(conditions, 'balanced', counts, random)!;
			counts.set(c, (counts.get(c) ?? 0) + 1);
		}
		expect([...counts.values()].sort()).toEqual([10, 10, 11]);
		expect(pickCondition([], 'random', counts, random)).toBeNull();
	});
});

describe('scheduled cohorts', () => {
	const session = {
		mode: 'scheduled' as const,
		intervalMinutes: 30,
		firstStartAt: '',
		minCohortSize: 2,
		maxCohortSize: 4
	};
	test('the next start is on the interval grid, at or after now', () => {
		const now = Date.parse('2030-01-01T10:07:00Z');
		expect(new Date(nextCohortStart(session, now)).toISOString()).toBe('2030-01-01T10:30:00.000Z');
		const onTheDot = Date.parse('2030-01-01T10:30:00Z');
		expect(nextCohortStart(session, onTheDot)).toBe(onTheDot);
		const first = { ...session, firstStartAt: '2030-06-01T09:15:00Z' };
		expect(nextCohortStart(first, now)).toBe(Date.parse('2030-06-01T09:15:00Z'));
		expect(new Date(nextCohortStart(first, Date.parse('2030-06-01T09:50:00Z'))).toISOString()).toBe(
			'2030-06-01T10:15:00.000Z'
		);
	});
	test('cohorts split into the fewest rooms with sizes differing by at most one', () => {
		expect(splitCohort(10, 4)).toEqual([4, 3, 3]);
		fc.assert(
			fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 64 }), (n, max) => {
				const sizes = splitCohort(n, max);
				expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
				expect(sizes.length).toBe(Math.ceil(n / max));
				if (sizes.length > 0) {
					expect(Math.max(...sizes)).toBeLessThanOrEqual(max);
					expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
				}
			})
		);
	});
});

describe('expectedWait', () => {
	test('estimates from the recent arrival rate, null without data, 0 when enough wait', () => {
		const now = 600_000;
		// One arrival every 10 s over the last 60 s: 2 missing → about 20 s.
		const arrivals = [540_000, 550_000, 560_000, 570_000, 580_000, 590_000];
		expect(expectedWait(arrivals, 2, 4, now)).toBe(20_000);
		expect(expectedWait([590_000, 595_000], 1, 4, now)).toBeNull();
		expect(expectedWait(arrivals, 4, 4, now)).toBe(0);
		// A lull: the same arrivals seen later give a longer estimate.
		expect(expectedWait(arrivals, 2, 4, now + 60_000)!).toBeGreaterThan(20_000);
	});
});

describe('invite codes', () => {
	test('are six unambiguous characters and survive being typed loosely', () => {
		const code = generateInviteCode();
		expect(code).toMatch(/^[ACDEFGHJKMNPQRTUVWXY34679]{6}$/);
		expect(normalizeInviteCode(` ${code.slice(0, 3).toLowerCase()}-${code.slice(3)} `)).toBe(code);
		expect(normalizeInviteCode('O0O0O0')).toBeNull();
		expect(normalizeInviteCode('ACD')).toBeNull();
	});
});
