import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import postgres from 'postgres';
import { createBlankStudy, createStage, type StudyDefinition } from '../../src/lib/study';
import {
	actOnStep,
	joinStudy,
	readStep as readStepOf,
	respondToStage,
	sendHeartbeat,
	startParticipant,
	type JourneyServer
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

// The participant's way in, on the built server: the study link, pre-room stages, the waiting
// room and group formation (by the runner and right after joining), the lobby timeout.
setDefaultTimeout(90_000);

/** A consent, a self-paced instructions page (both pre-room), then a group chat and the end. */
function makeDyadStudy(lobbyTimeoutSeconds = 300): StudyDefinition {
	const study = createBlankStudy('Journey dyad');
	study.settings.participantTitle = 'A study about talking';
	study.settings.session = { mode: 'matched', groupSize: 2, minGroupSize: 2, lobbyTimeoutSeconds };
	study.settings.roles = [
		{ id: 'speaker', name: 'Speaker', minCount: 1, maxCount: 1 },
		{ id: 'listener', name: 'Listener', minCount: 1, maxCount: 1 }
	];
	study.settings.outcomes.no_consent.completionCode = 'NOCONSENT1';
	study.settings.outcomes.lobby_timeout.completionCode = 'TIMEOUT42';
	const consent = createStage('consent', []);
	if (consent.type === 'consent') consent.content.markdown = 'We record your answers. Agree?';
	const intro = createStage('instructions', ['consent']);
	const chat = createStage('chat', ['consent', 'instructions']);
	const end = createStage('end', ['consent', 'instructions', 'chat']);
	study.stages = [consent, intro, chat, end];
	return study;
}

const pg = requireService('TEST_DATABASE_URL', 'journey tests on Postgres');
const targets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

for (const target of targets) {
	describe.skipIf(!target.available)(`participant journey on ${target.name}`, () => {
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

		const publish = (definition: StudyDefinition) => publishStudy(api, definition, 'Journey');

		async function countParticipants(studyId: string): Promise<number> {
			const list = await api<{ studies: { id: string; participants: number }[] }>(
				'GET',
				'/api/studies'
			);
			return list.studies.find((s) => s.id === studyId)?.participants ?? -1;
		}

		// The page's HTTP surface, as tests/support/journey.ts drives it, against this server.
		const at = (): JourneyServer => ({ base: server.url, origin: server.origin });
		const start = (slug: string, cookie = '', link = '') =>
			startParticipant(at(), slug, cookie, link);
		const join = (slug: string) => joinStudy(at(), slug);
		const readStep = (slug: string, cookie: string) => readStepOf(at(), slug, cookie);
		const act = (slug: string, cookie: string, action: string, fields = {}) =>
			actOnStep(at(), slug, cookie, action, fields);
		const respond = (slug: string, cookie: string, stageId: string, response: unknown) =>
			respondToStage(at(), slug, cookie, stageId, response);
		const beat = (slug: string, cookie: string) => sendHeartbeat(at(), slug, cookie);

		/** Through consent and instructions to the ready check, then into the waiting room. */
		async function reachWaitingRoom(slug: string, cookie: string): Promise<void> {
			await respond(slug, cookie, 'consent', { type: 'consent', agreed: true });
			await respond(slug, cookie, 'instructions', { type: 'continue' });
			expect((await readStep(slug, cookie))?.kind).toBe('ready');
			expect((await act(slug, cookie, 'ready')).type).toBe('success');
		}

		async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 20_000) {
			const deadline = Date.now() + ms;
			let value = await read();
			while (!done(value) && Date.now() < deadline) {
				await Bun.sleep(200);
				value = await read();
			}
			return value;
		}

		test('GET and HEAD never create a participant; Start does, with a scoped HttpOnly cookie', async () => {
			const study = await publish(makeDyadStudy());
			for (const method of ['GET', 'HEAD']) {
				const response = await fetch(`${server.url}/s/${study.slug}`, { method });
				expect(response.status).toBe(200);
				expect(response.headers.getSetCookie()).toEqual([]);
			}
			expect(await readStep(study.slug, '')).toBeNull();
			expect(await countParticipants(study.id)).toBe(0);

			const response = await start(study.slug, '', '?PROLIFIC_PID=abc&source=mail');
			expect(response.status).toBe(303);
			expect(response.headers.get('location')).toBe(`/s/${study.slug}`);
			const set = response.headers.getSetCookie().find((c) => c.startsWith('ensemble_p_'))!;
			expect(set).toContain('HttpOnly');
			expect(set).toContain(`Path=/s/${study.slug}`);
			const cookie = set.split(';')[0]!;
			expect(await countParticipants(study.id)).toBe(1);

			// Refresh, second tab, pressing Start again: the same participant at the same step.
			expect(await readStep(study.slug, cookie)).toMatchObject({ kind: 'stage', index: 0 });
			expect((await start(study.slug, cookie)).status).toBe(303);
			expect(await countParticipants(study.id)).toBe(1);
			await respond(study.slug, cookie, 'consent', { type: 'consent', agreed: true });
			expect(await readStep(study.slug, cookie)).toMatchObject({ kind: 'stage', index: 1 });
			expect((await start(study.slug, cookie)).status).toBe(303);
			expect(await readStep(study.slug, cookie)).toMatchObject({ kind: 'stage', index: 1 });
			expect(await countParticipants(study.id)).toBe(1);

			// A resume link moves the participant to another device and leaves the URL.
			const token = cookie.split('=')[1]!;
			const resumed = await fetch(`${server.url}/s/${study.slug}?resume=${token}`, {
				redirect: 'manual'
			});
			expect(resumed.status).toBe(303);
			expect(resumed.headers.get('location')).toBe(`/s/${study.slug}`);
			const moved = resumed.headers.getSetCookie().find((c) => c.startsWith('ensemble_p_'))!;
			expect(moved.split(';')[0]).toBe(cookie);
		});

		test('a pre-room response sent twice is stored once; skipping ahead is refused', async () => {
			const study = await publish(makeDyadStudy());
			const cookie = await join(study.slug);
			const skip = await respond(study.slug, cookie, 'instructions', { type: 'continue' });
			expect(skip).toMatchObject({ type: 'failure', status: 409 });
			const wrong = await respond(study.slug, cookie, 'consent', { type: 'continue' });
			expect(wrong).toMatchObject({ type: 'failure', status: 409 });
			const [first, second] = await Promise.all([
				respond(study.slug, cookie, 'consent', { type: 'consent', agreed: true }),
				respond(study.slug, cookie, 'consent', { type: 'consent', agreed: true })
			]);
			const stored = [first!.data?.stored, second!.data?.stored].sort();
			expect(stored).toEqual([false, true]);
			const again = await respond(study.slug, cookie, 'consent', { type: 'consent', agreed: true });
			expect(again.data).toEqual({ stored: false });
			if (sql) {
				const rows = await sql`select stage_id from stage_responses r
					join participants p on p.id = r.participant_id where p.study_id = ${study.id}`;
				expect(rows.map((r) => r.stage_id)).toEqual(['consent']);
			}
		});

		test('declining consent gives no_consent once, with its completion code', async () => {
			const study = await publish(makeDyadStudy());
			const cookie = await join(study.slug);
			await respond(study.slug, cookie, 'consent', { type: 'consent', agreed: false });
			await respond(study.slug, cookie, 'consent', { type: 'consent', agreed: true });
			expect(await readStep(study.slug, cookie)).toMatchObject({
				kind: 'outcome',
				outcome: 'no_consent',
				completionCode: 'NOCONSENT1'
			});
			expect((await act(study.slug, cookie, 'ready')).status).toBe(409);
			if (sql) {
				const rows = await sql`select outcome from participants where study_id = ${study.id}`;
				expect(rows.map((r) => r.outcome)).toEqual(['no_consent']);
			}
		});

		test('two participants of a dyad are grouped into one room with both roles', async () => {
			const study = await publish(makeDyadStudy());
			const a = await join(study.slug);
			const b = await join(study.slug);
			await reachWaitingRoom(study.slug, a);
			expect(await readStep(study.slug, a)).toMatchObject({ kind: 'waiting' });
			expect((await beat(study.slug, a)).view?.waiting).toBe(1);
			await reachWaitingRoom(study.slug, b);
			// Formation runs right after the second joins: no waiting for the runner's tick.
			const stepA = await readStep(study.slug, a);
			const stepB = await readStep(study.slug, b);
			expect(stepA?.kind).toBe('in_room');
			expect(stepB?.kind).toBe('in_room');
			expect(stepA?.roomId).toBe(stepB!.roomId as string);
			expect([stepA?.roleName, stepB?.roleName].sort()).toEqual(['Listener', 'Speaker']);
			expect((await beat(study.slug, a)).status).toBe('in_room');
			if (sql) {
				const rows = await sql`select count(*)::int as n from room_members m
					join participants p on p.id = m.participant_id where p.study_id = ${study.id}`;
				expect(rows[0]!.n).toBe(2);
			}
		});

		test('a lone participant gets lobby_timeout from the runner, once', async () => {
			const study = await publish(makeDyadStudy(10));
			const cookie = await join(study.slug);
			await reachWaitingRoom(study.slug, cookie);
			const step = await waitFor(
				async () => {
					await beat(study.slug, cookie);
					return readStep(study.slug, cookie);
				},
				(value) => value?.kind === 'outcome',
				25_000
			);
			expect(step).toMatchObject({
				kind: 'outcome',
				outcome: 'lobby_timeout',
				completionCode: 'TIMEOUT42'
			});
			if (sql) {
				const rows =
					await sql`select outcome, status from participants where study_id = ${study.id}`;
				expect(rows.map((r) => [r.outcome, r.status])).toEqual([['lobby_timeout', 'finished']]);
			}
		});

		test('a paused study refuses newcomers but resumes those already in', async () => {
			const study = await publish(makeDyadStudy());
			const cookie = await join(study.slug);
			await api('POST', `/api/studies/${study.id}/pause`);
			const refused = await start(study.slug);
			expect(refused.status).toBe(409);
			expect(refused.headers.getSetCookie()).toEqual([]);
			expect(await readStep(study.slug, '')).toBeNull();
			expect(await countParticipants(study.id)).toBe(1);
			const page = await fetch(`${server.url}/s/${study.slug}`);
			expect(await page.text()).toContain('paused');
			expect((await start(study.slug, cookie)).status).toBe(303);
			expect(await readStep(study.slug, cookie)).toMatchObject({ kind: 'stage', index: 0 });
			expect(await countParticipants(study.id)).toBe(1);
		});
	});
}
