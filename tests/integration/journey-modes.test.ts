import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import postgres from 'postgres';
import { findStudyTemplate, type StudyDefinition } from '../../src/lib/study';
import {
	actOnStep,
	joinStudy,
	readStep as readStepOf,
	sendHeartbeat,
	type JourneyServer,
	type Step
} from '../support/journey';
import { requireService } from '../support/services';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type AdminApi,
	type StudyServer
} from '../support/study-server';
import { type RunningServer } from '../support/server';

// The two other ways into a room, on the built server: `open` mode (a participant starts a room
// and others join with its invite code, up to the capacity) and `scheduled` mode (the runner
// starts a cohort at its start time with everyone waiting, or gives a lone one lobby_timeout).
setDefaultTimeout(90_000);

/** The focus-room template (open mode, participants start rooms), with a small capacity. */
function makeFocusRoom(capacity: number): StudyDefinition {
	const study = findStudyTemplate('focus-room')!.create({ demoMediaId: null });
	if (study.settings.session.mode !== 'open') throw new Error('focus-room is no longer open mode');
	study.settings.session.capacity = capacity;
	return study;
}

/** The focus room as a scheduled study: one cohort a minute from `firstStartAt`, 2 at least. */
function makeScheduledRoom(firstStartAt: Date): StudyDefinition {
	const study = findStudyTemplate('focus-room')!.create({ demoMediaId: null });
	study.settings.session = {
		mode: 'scheduled',
		intervalMinutes: 1,
		firstStartAt: firstStartAt.toISOString(),
		minCohortSize: 2,
		maxCohortSize: 8
	};
	study.settings.outcomes.lobby_timeout.completionCode = 'NOCOHORT7';
	return study;
}

const pg = requireService('TEST_DATABASE_URL', 'journey mode tests on Postgres');
const targets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

for (const target of targets) {
	describe.skipIf(!target.available)(`open and scheduled rooms on ${target.name}`, () => {
		let setup: StudyServer;
		let server: RunningServer;
		let admin: string;
		let sql: postgres.Sql | null = null;
		let api: AdminApi;

		beforeAll(async () => {
			setup = await startStudyServer(target.postgres && pg.available ? pg.url : null);
			({ server, admin, sql } = setup);
			api = createAdminApi(server, admin);
		});
		afterAll(() => setup?.stop());

		const publish = (definition: StudyDefinition) => publishStudy(api, definition, 'Modes');

		const at = (): JourneyServer => ({ base: server.url, origin: server.origin });
		const join = (slug: string) => joinStudy(at(), slug);
		const readStep = (slug: string, cookie: string) => readStepOf(at(), slug, cookie);
		const act = (slug: string, cookie: string, action: string, fields = {}) =>
			actOnStep(at(), slug, cookie, action, fields);
		const beat = (slug: string, cookie: string) => sendHeartbeat(at(), slug, cookie);

		/** Polls `read` (every 200 ms) until `done`, or until `ms` have passed. */
		async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, ms: number) {
			const deadline = Date.now() + ms;
			let value = await read();
			while (!done(value) && Date.now() < deadline) {
				await Bun.sleep(200);
				value = await read();
			}
			return value;
		}

		test('open mode: one starts a room, others join by its code up to the capacity', async () => {
			const study = await publish(makeFocusRoom(3));
			const [a, b, c, d] = [
				await join(study.slug),
				await join(study.slug),
				await join(study.slug),
				await join(study.slug)
			];
			// The focus room has no individual stages: straight to the ready check, open mode.
			expect(await readStep(study.slug, a!)).toMatchObject({
				kind: 'ready',
				mode: 'open',
				canCreateRoom: true
			});

			expect(await act(study.slug, a!, 'create')).toMatchObject({
				type: 'success',
				data: { entered: true }
			});
			const stepA = (await readStep(study.slug, a!)) as Step;
			expect(stepA).toMatchObject({ kind: 'in_room', roleName: 'Participant' });
			const code = String(stepA.inviteCode);
			expect(code).toMatch(/^[A-Z0-9]{6}$/);

			// Codes as people type them: lower case, with a dash, with spaces.
			const dashed = `${code.slice(0, 3)}-${code.slice(3)}`.toLowerCase();
			expect(await act(study.slug, b!, 'join', { code: dashed })).toMatchObject({
				type: 'success'
			});
			expect(await act(study.slug, c!, 'join', { code: ` ${code.toLowerCase()} ` })).toMatchObject({
				type: 'success'
			});

			// A fourth is refused (capacity 3), with the reason the page turns into a message.
			expect(await act(study.slug, d!, 'join', { code })).toMatchObject({
				type: 'failure',
				status: 409,
				data: { reason: 'full' }
			});
			// Without JS the form posts as HTML: the page itself says why.
			const page = await fetch(`${server.url}/s/${study.slug}?/join`, {
				method: 'POST',
				headers: {
					origin: server.origin,
					cookie: d!,
					accept: 'text/html',
					'content-type': 'application/x-www-form-urlencoded'
				},
				body: new URLSearchParams({ code })
			});
			expect(page.status).toBe(409);
			expect(await page.text()).toContain('This room is full.');

			// An unknown code (well formed or not) finds nothing; D is still at the ready check.
			const unused = code === 'AAAAAA' ? 'CCCCCC' : 'AAAAAA';
			for (const wrong of [unused, 'nope']) {
				expect(await act(study.slug, d!, 'join', { code: wrong })).toMatchObject({
					type: 'failure',
					status: 409,
					data: { reason: 'unknown_code' }
				});
			}
			expect(await readStep(study.slug, d!)).toMatchObject({ kind: 'ready' });

			// Everyone who got in is in the one room, with its code; joining again is a no-op.
			const steps = await Promise.all([a!, b!, c!].map((cookie) => readStep(study.slug, cookie)));
			for (const step of steps) {
				expect(step).toMatchObject({ kind: 'in_room', roomId: stepA.roomId, inviteCode: code });
			}
			expect(await act(study.slug, b!, 'join', { code })).toMatchObject({ type: 'success' });
			expect(await readStep(study.slug, b!)).toMatchObject({ roomId: stepA.roomId });

			// D may still start a room of their own: a different room, a different code.
			expect(await act(study.slug, d!, 'create')).toMatchObject({ type: 'success' });
			const stepD = (await readStep(study.slug, d!)) as Step;
			expect(stepD).toMatchObject({ kind: 'in_room' });
			expect(stepD.roomId).not.toBe(stepA.roomId);
			expect(stepD.inviteCode).not.toBe(code);

			if (sql) {
				const rows = await sql`select m.room_id, count(*)::int as n from room_members m
					join participants p on p.id = m.participant_id where p.study_id = ${study.id}
					group by m.room_id order by n desc`;
				expect(rows.map((r) => [r.room_id, r.n])).toEqual([
					[stepA.roomId, 3],
					[stepD.roomId, 1]
				]);
			}
		});

		test('scheduled mode: the runner starts the cohort at its time; a lone one gets lobby_timeout', async () => {
			// Both studies' first cohort a few seconds from now (the next ones a minute later).
			const startAt = new Date(Math.ceil((Date.now() + 6_000) / 1000) * 1000);
			const pair = await publish(makeScheduledRoom(startAt));
			const lone = await publish(makeScheduledRoom(startAt));
			const waiters = [
				{ slug: pair.slug, cookie: await join(pair.slug) },
				{ slug: pair.slug, cookie: await join(pair.slug) },
				{ slug: lone.slug, cookie: await join(lone.slug) }
			];
			for (const w of waiters) {
				expect(await readStep(w.slug, w.cookie)).toMatchObject({
					kind: 'ready',
					mode: 'scheduled'
				});
				expect(await act(w.slug, w.cookie, 'ready')).toMatchObject({ type: 'success' });
			}
			// Nobody starts early, even with two waiting; everyone is told when the cohort starts.
			expect(Date.now()).toBeLessThan(startAt.getTime());
			for (const w of waiters) {
				expect(await readStep(w.slug, w.cookie)).toMatchObject({
					kind: 'waiting',
					cohortStartsAt: startAt.getTime()
				});
			}

			// Waiting as the page does: a heartbeat, then the step; done once nobody is waiting.
			const steps = await waitFor(
				() =>
					Promise.all(
						waiters.map(async (w) => {
							await beat(w.slug, w.cookie);
							return { step: await readStep(w.slug, w.cookie), at: Date.now() };
						})
					),
				(all) => all.every((s) => s.step?.kind !== 'waiting'),
				startAt.getTime() - Date.now() + 15_000
			);
			const [first, second, alone] = steps;
			expect(first!.step).toMatchObject({ kind: 'in_room', roleName: 'Participant' });
			expect(second!.step).toMatchObject({ kind: 'in_room', roomId: first!.step!.roomId });
			expect(first!.at).toBeGreaterThanOrEqual(startAt.getTime());
			expect(alone!.step).toMatchObject({
				kind: 'outcome',
				outcome: 'lobby_timeout',
				completionCode: 'NOCOHORT7'
			});

			if (sql) {
				const outcomes = await sql`select outcome, status from participants
					where study_id = ${lone.id}`;
				expect(outcomes.map((r) => [r.outcome, r.status])).toEqual([['lobby_timeout', 'finished']]);
				const members = await sql`select count(distinct m.room_id)::int as rooms,
					count(*)::int as n from room_members m
					join participants p on p.id = m.participant_id where p.study_id = ${pair.id}`;
				expect(members[0]).toEqual({ rooms: 1, n: 2 });
			}
		});
	});
}
