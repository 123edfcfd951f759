import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { parse } from 'csv-parse/sync';
import { eq, inArray } from 'drizzle-orm';
import { unzipSync } from 'fflate';
import { openDatabase } from '../../src/lib/server/db/open';
import { auditEvents, roomEvents, rooms, stageResponses } from '../../src/lib/server/db/schema';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
	type Stage,
	type StudyDefinition
} from '../../src/lib/study';
import { signUpFirstAdmin } from '../support/app';
import { createPostgresDatabase } from '../support/databases';
import { startServer, temporaryDataDir, type RunningServer } from '../support/server';
import { requireService } from '../support/services';
import { createAdminApi, publishStudy, type AdminApi } from '../support/study-server';

// Bots run a study on the built server (PGlite and Postgres); then every dataset is exported
// over the REST API in every format and compared with the database itself, once the server
// has stopped: the same events and responses, each exactly once, with the same content.
setDefaultTimeout(120_000);

const DATASETS = ['events', 'responses', 'wide', 'telemetry', 'chat', 'participants'] as const;
type Counts = Record<(typeof DATASETS)[number], number>;
type Problem = { error: string; message: string; issues?: { path: string; message: string }[] };

function makeStudy(): StudyDefinition {
	const study = createBlankStudy('Export by bots');
	study.settings.session = {
		mode: 'matched',
		groupSize: 2,
		minGroupSize: 2,
		lobbyTimeoutSeconds: 300
	};
	study.settings.outcomes.completed.completionCode = 'BOTS99';
	const survey = createStage('questionnaire', []);
	if (survey.type === 'questionnaire') {
		const kinds = ['likert', 'choice', 'checkboxes', 'slider', 'number', 'short_text'] as const;
		survey.content.items = kinds.map((kind, i) => ({
			...createQuestionItem(kind, []),
			id: `q${i}`,
			prompt: `Question ${i}`
		}));
	}
	const chat = {
		...createStage('chat', []),
		id: 'talk',
		advance: 'timer',
		durationSeconds: 2
	} as Stage;
	const pick = createStage('group_choice', []);
	if (pick.type === 'group_choice') pick.content.prompt = 'Which one?';
	study.stages = [
		survey,
		chat,
		{ ...pick, id: 'pick', dropout: { policy: 'end' } },
		{ ...createStage('end', []), id: 'end' }
	];
	return study;
}

const pg = requireService('TEST_DATABASE_URL', 'export over HTTP on Postgres');
const targets = [
	{ name: 'pglite', available: true },
	{ name: 'postgres', available: pg.available }
];

for (const target of targets) {
	describe.skipIf(!target.available)(`export over HTTP on ${target.name}`, () => {
		const cleanups: (() => unknown)[] = [];
		let server: RunningServer;
		let env: Record<string, string>;
		let admin: string;
		let api: AdminApi;
		let study: { id: string; slug: string };
		let viewer: string;
		/** Every export body the tests fetched, checked against the database at the end. */
		const exported = new Map<string, string>();
		let audited = 0;

		beforeAll(async () => {
			const data = temporaryDataDir();
			cleanups.push(data.remove);
			env = { DATA_DIR: data.dir, LOG_LEVEL: 'warn' };
			if (target.name === 'postgres' && pg.available) {
				const database = await createPostgresDatabase(pg.url);
				cleanups.unshift(database.drop);
				env.DATABASE_URL = database.url;
			}
			server = await startServer(env);
			cleanups.unshift(() => server.stop());
			admin = await signUpFirstAdmin(server);
			api = createAdminApi(server, admin);
			study = await publishStudy(api, makeStudy(), 'Export by bots');
			await api('POST', `/api/studies/${study.id}/bots`, {
				count: 4,
				thinkMs: [10, 60],
				chat: true,
				seed: 11
			});
			const deadline = Date.now() + 60_000;
			for (;;) {
				const { bots } = await api<{ bots: { outcome: string | null }[] }>(
					'GET',
					`/api/studies/${study.id}/bots`
				);
				if (bots.length === 4 && bots.every((b) => b.outcome !== null)) break;
				if (Date.now() > deadline) throw new Error(`bots did not finish: ${JSON.stringify(bots)}`);
				await Bun.sleep(250);
			}
			viewer = await inviteViewer(server, api, admin, study.id);
		});
		afterAll(async () => {
			for (const cleanup of cleanups) await cleanup();
		});

		async function get(path: string, cookie = admin, headers: Record<string, string> = {}) {
			return fetch(`${server.url}${path}`, { headers: { cookie, ...headers } });
		}

		async function download(dataset: string, query = ''): Promise<string> {
			const response = await get(`/api/studies/${study.id}/data/${dataset}${query}`);
			expect(response.status, await response.clone().text()).toBe(200);
			audited++;
			const text = await response.text();
			exported.set(`${dataset}${query}`, text);
			return text;
		}

		async function counts(query = ''): Promise<Counts> {
			const response = await get(`/api/studies/${study.id}/data${query}`);
			expect(response.status).toBe(200);
			return ((await response.json()) as { counts: Counts }).counts;
		}

		test('every dataset as CSV, JSON and NDJSON: the announced count of rows, parseable', async () => {
			const all = await counts();
			expect(all.participants).toBe(4);
			expect(all.wide).toBe(4);
			expect(all.events).toBeGreaterThan(10);
			expect(all.chat).toBeGreaterThanOrEqual(4);
			// Questionnaire: 6 items each; the group choice: one row each.
			expect(all.responses).toBe(4 * 6 + 4);
			for (const dataset of DATASETS) {
				const csv = await download(dataset);
				const records = parse(csv, { columns: true, bom: false }) as Record<string, string>[];
				expect({ dataset, rows: records.length }).toEqual({ dataset, rows: all[dataset] });
				const json = JSON.parse(await download(dataset, '?format=json')) as unknown[];
				expect(json).toHaveLength(all[dataset]);
				const ndjson = (await download(dataset, '?format=ndjson')).split('\n').filter(Boolean);
				expect(ndjson.map((line) => JSON.parse(line))).toEqual(json);
			}
			const participants = parse(exported.get('participants')!, { columns: true }) as Record<
				string,
				string
			>[];
			expect(participants.map((p) => [p.is_bot, p.outcome, p.completion_code])).toEqual(
				Array.from({ length: 4 }, () => ['true', 'completed', 'BOTS99'])
			);
			const wide = parse(exported.get('wide')!, { columns: true }) as Record<string, string>[];
			expect(Object.keys(wide[0]!)).toContain('pick.option');
			expect(wide.every((row) => ['a', 'b'].includes(row['pick.option']!))).toBe(true);
		});

		test('a download is an attachment named after the study, dataset and time', async () => {
			const response = await get(`/api/studies/${study.id}/data/chat?format=ndjson`);
			audited++;
			expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
			expect(response.headers.get('content-disposition')).toMatch(
				/^attachment; filename="export-by-bots_chat_\d{8}T\d{6}Z\.ndjson"$/
			);
			expect(response.headers.get('cache-control')).toBe('no-store');
			await response.arrayBuffer();
		});

		test('filters: without bots nothing is left; a version or outcome nobody has, nothing', async () => {
			expect(await counts('?bots=exclude')).toEqual({
				events: 0,
				responses: 0,
				wide: 0,
				telemetry: 0,
				chat: 0,
				participants: 0
			});
			expect((await counts('?outcome=dropout')).participants).toBe(0);
			expect((await counts('?version=2')).events).toBe(0);
			expect((await counts('?version=1&outcome=completed&from=2000-01-01')).participants).toBe(4);
			const csv = await download('events', '?bots=exclude');
			expect(csv.split('\r\n')).toHaveLength(2);
			expect(csv.startsWith('study_id,version,version_hash,room_id,group,seq,type,')).toBe(true);
		});

		test('bad requests change nothing and say why', async () => {
			const bad = async (path: string, status: number, error: string) => {
				const response = await get(`/api/studies/${study.id}${path}`);
				expect({ path, status: response.status }).toEqual({ path, status });
				const body = (await response.json()) as Problem;
				expect(body.error).toBe(error);
				return body;
			};
			const invalid = await bad('/data/events?bots=maybe&since=2025', 400, 'invalid_query');
			expect(invalid.issues!.map((i) => i.path)).toEqual(['since']);
			expect((await bad('/data?from=2025-13-01', 400, 'invalid_query')).issues![0]!.path).toBe(
				'from'
			);
			await bad('/data/nothing', 404, 'unknown_dataset');
			await bad('/data/events?format=psych-ds', 400, 'invalid_format');
			await bad('/data/all?format=csv', 400, 'invalid_format');
			const missing = await get('/api/studies/nope/data/events');
			expect(missing.status).toBe(404);
			const anonymous = await fetch(`${server.url}/api/studies/${study.id}/data/events`);
			expect(anonymous.status).toBe(401);
		});

		test('external ids need the data permission: a viewer without it gets 403 and no data', async () => {
			const denied = await get(`/api/studies/${study.id}/data/participants?externalIds=1`, viewer);
			expect(denied.status).toBe(403);
			expect(((await denied.json()) as Problem).error).toBe('data_permission_required');
			// Without external ids the viewer may export, and it is audited.
			const allowed = await get(`/api/studies/${study.id}/data/participants`, viewer);
			expect(allowed.status).toBe(200);
			audited++;
			const header = (await allowed.text()).split('\r\n')[0]!;
			expect(header).not.toContain('ext.');
			// The owner (an admin) has it.
			await download('participants', '?externalIds=1');
		});

		test('a script exports with an API token, no cookie', async () => {
			const { token } = await api<{ token: string }>('POST', '/api/tokens', {
				name: 'export script'
			});
			const response = await fetch(
				`${server.url}/api/studies/${study.id}/data/responses?format=ndjson`,
				{
					headers: { authorization: `Bearer ${token}` }
				}
			);
			expect(response.status).toBe(200);
			audited++;
			expect((await response.text()).trim().split('\n')).toHaveLength(4 * 6 + 4);
		});

		test('all datasets as one Psych-DS bundle (a zip)', async () => {
			const response = await get(`/api/studies/${study.id}/data/all?format=psych-ds`);
			expect(response.status).toBe(200);
			audited++;
			expect(response.headers.get('content-type')).toBe('application/zip');
			const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
			expect(Object.keys(files)).toContain('dataset_description.json');
			expect(Object.keys(files).filter((name) => name.endsWith('_data.csv')).length).toBe(
				DATASETS.length
			);
		});

		test('after the server stops: exports hold exactly the database rows; every export was audited', async () => {
			await server.stop();
			const handle = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR! });
			try {
				const db = handle.db;
				const roomIds = (
					await db.select({ id: rooms.id }).from(rooms).where(eq(rooms.studyId, study.id))
				).map((r) => r.id);
				const logged = await db
					.select()
					.from(roomEvents)
					.where(inArray(roomEvents.roomId, roomIds));
				const events = parse(exported.get('events')!, { columns: true }) as Record<
					string,
					string
				>[];
				const key = (roomId: string, seq: number | string) => `${roomId}#${seq}`;
				expect(events.map((e) => key(e.room_id!, e.seq!)).sort()).toEqual(
					logged.map((e) => key(e.roomId, e.seq)).sort()
				);
				const byKey = new Map(logged.map((e) => [key(e.roomId, e.seq), e]));
				for (const row of events) {
					const stored = byKey.get(key(row.room_id!, row.seq!))!;
					expect(row.type).toBe(stored.name);
					expect(JSON.parse(row.payload!)).toEqual(stored.payload);
					expect(row.server_time).toBe(stored.at.toISOString());
				}

				const responses = await db
					.select()
					.from(stageResponses)
					.where(eq(stageResponses.studyId, study.id));
				const rows = JSON.parse(exported.get('responses?format=json')!) as Record<
					string,
					unknown
				>[];
				for (const stored of responses) {
					const mine = rows.filter(
						(r) => r.participant_id === stored.participantId && r.stage_id === stored.stageId
					);
					const response = stored.response as {
						answers?: Record<string, unknown>;
						option?: string;
					};
					if (response.answers) {
						expect(Object.fromEntries(mine.map((r) => [r.item_id, r.response]))).toEqual(
							Object.fromEntries(
								Object.entries(response.answers).map(([id, answer]) => [
									id,
									Array.isArray(answer) ? JSON.stringify(answer) : answer
								])
							)
						);
					} else {
						expect(mine.map((r) => [r.item_id, r.response])).toEqual([['option', response.option]]);
					}
				}
				expect(rows).toHaveLength(
					responses.reduce(
						(n, r) =>
							n +
							Math.max(1, Object.keys((r.response as { answers?: object }).answers ?? {}).length),
						0
					)
				);

				const chat = parse(exported.get('chat')!, { columns: true }) as Record<string, string>[];
				const sent = logged.filter((e) => e.name === 'chat.sent');
				expect(chat.map((c) => c.text).sort()).toEqual(
					sent.map((e) => (e.payload as { text: string }).text).sort()
				);

				const audit = await db.select().from(auditEvents).where(eq(auditEvents.studyId, study.id));
				expect(audit.filter((a) => a.action === 'data.export')).toHaveLength(audited);
				expect(
					audit.find((a) => (a.detail as { externalIds?: boolean }).externalIds === true)?.detail
				).toMatchObject({
					dataset: 'participants',
					format: 'csv',
					filter: { bots: 'include', versions: null }
				});
			} finally {
				await handle.close();
			}
		});
	});
}

/** A colleague with the `view` permission and no data permission; returns their cookie. */
async function inviteViewer(
	server: RunningServer,
	api: AdminApi,
	admin: string,
	studyId: string
): Promise<string> {
	const email = 'vic@test.invalid';
	const password = 'sturdy evening lantern';
	const { url } = await api<{ url: string }>('POST', '/api/invites', { role: 'researcher', email });
	const response = await fetch(`${server.url}${new URL(url).pathname}`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			origin: server.origin,
			'content-type': 'application/x-www-form-urlencoded',
			accept: 'text/html'
		},
		body: new URLSearchParams({ name: 'Vic Viewer', email, password, confirm: password })
	});
	const cookie = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
	if (response.status !== 303 || !cookie) throw new Error(`invite failed: ${response.status}`);
	const shared = await fetch(`${server.url}/api/studies/${studyId}/members`, {
		method: 'POST',
		headers: { cookie: admin, origin: server.origin, 'content-type': 'application/json' },
		body: JSON.stringify({ email, permission: 'view' })
	});
	if (shared.status !== 204) throw new Error(`sharing failed: ${shared.status}`);
	return cookie.split(';')[0]!;
}
