import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import {
	createBlankStudy,
	createStage,
	hashStudyDefinition,
	type StudyDefinition
} from '../../src/lib/study';
import { STUDY_TEMPLATES } from '../../src/lib/study/templates';
import { signUpFirstAdmin } from '../support/app';
import { createPostgresDatabase } from '../support/databases';
import { requireService } from '../support/services';
import { startServer, temporaryDataDir, type RunningServer } from '../support/server';

// The studies REST API on the built production server (`bun build/server.js`), with the
// people who use it: an admin, two researchers, a viewer, and a script holding an API token.
setDefaultTimeout(60_000);

/** Who sends a request: a browser session (cookie + Origin), a script (token), or nobody. */
type Actor = { cookie: string } | { token: string } | null;

type Problem = { error: string; message: string; issues?: { path: string; message: string }[] };

type Detail = {
	id: string;
	slug: string;
	title: string;
	status: string;
	archived: boolean;
	access: string;
	canEdit: boolean;
	canManage: boolean;
	draft: StudyDefinition;
	revision: number;
	draftHash: string;
	latestVersion: number | null;
	latestHash: string | null;
	versions: { version: number; contentHash: string; publishedBy: string | null }[];
	owner: { id: string; name: string; email: string };
	members: { userId: string; name: string; email: string; permission: string }[];
	changes: { at: string; user: string | null; action: string; detail: Record<string, unknown> }[];
	link: string;
};

type Summary = {
	id: string;
	title: string;
	status: string;
	archived: boolean;
	latestVersion: number | null;
	access: string;
	owner: { id: string; name: string };
	updatedBy: string | null;
	hasUnpublishedChanges: boolean;
	participants: number;
};

const PASSWORD = 'sturdy evening lantern';
const PEOPLE = {
	rhea: { name: 'Rhea Researcher', email: 'rhea@studies.test', role: 'researcher' },
	ben: { name: 'Ben Researcher', email: 'ben@studies.test', role: 'researcher' },
	vera: { name: 'Vera Viewer', email: 'vera@studies.test', role: 'viewer' }
} as const;

function send(
	server: RunningServer,
	actor: Actor,
	method: string,
	path: string,
	body?: unknown
): Promise<Response> {
	const headers = new Headers();
	if (actor && 'cookie' in actor) {
		headers.set('cookie', actor.cookie);
		// A browser sends Origin with every state-changing request.
		if (method !== 'GET') headers.set('origin', server.origin);
	}
	if (actor && 'token' in actor) headers.set('authorization', `Bearer ${actor.token}`);
	if (body !== undefined) headers.set('content-type', 'application/json');
	return fetch(`${server.url}${path}`, {
		method,
		headers,
		redirect: 'manual',
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
	});
}

/** Sends and parses the JSON answer, failing with the body when the status is unexpected. */
async function call<T = Record<string, unknown>>(
	server: RunningServer,
	actor: Actor,
	method: string,
	path: string,
	body: unknown,
	status: number
): Promise<T> {
	const response = await send(server, actor, method, path, body);
	const text = await response.text();
	if (response.status !== status) {
		throw new Error(`${method} ${path}: expected ${status}, got ${response.status}: ${text}`);
	}
	return (text ? JSON.parse(text) : null) as T;
}

/** Creates an account through an admin's invite link, as a colleague would; returns its cookie. */
async function inviteAndSignUp(
	server: RunningServer,
	admin: Actor,
	person: { name: string; email: string; role: string }
): Promise<string> {
	const { url } = await call<{ url: string }>(
		server,
		admin,
		'POST',
		'/api/invites',
		{ role: person.role, email: person.email },
		201
	);
	const form = new URLSearchParams({
		name: person.name,
		email: person.email,
		password: PASSWORD,
		confirm: PASSWORD
	});
	const response = await fetch(`${server.url}${new URL(url).pathname}`, {
		method: 'POST',
		redirect: 'manual',
		headers: {
			origin: server.origin,
			'content-type': 'application/x-www-form-urlencoded',
			accept: 'text/html'
		},
		body: form
	});
	const cookie = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
	if (response.status !== 303 || !cookie) throw new Error(`invite failed: ${response.status}`);
	return cookie.split(';')[0]!;
}

/** The public id part of `ens_<id>_<secret>`. */
function parseTokenId(token: string): string {
	return token.split('_')[1]!;
}

type Target = {
	name: string;
	available: boolean;
	env: () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>;
};

const pg = requireService('TEST_DATABASE_URL', 'studies API tests on Postgres');
const targets: Target[] = [
	{
		name: 'pglite',
		available: true,
		env: async () => {
			const data = temporaryDataDir();
			return { env: { DATA_DIR: data.dir }, cleanup: async () => data.remove() };
		}
	},
	{
		name: 'postgres',
		available: pg.available,
		env: async () => {
			const database = await createPostgresDatabase(pg.available ? pg.url : '');
			const data = temporaryDataDir();
			return {
				env: { DATABASE_URL: database.url, DATA_DIR: data.dir },
				cleanup: async () => {
					await database.drop();
					data.remove();
				}
			};
		}
	}
];

for (const target of targets) {
	describe.skipIf(!target.available)(`studies API on ${target.name}`, () => {
		let server: RunningServer;
		let cleanup: () => Promise<void>;
		let admin: Actor;
		let rhea: Actor;
		let ben: Actor;
		let vera: Actor;
		let studyId: string;
		/** The definition of Rhea's main study as last saved. */
		let saved: StudyDefinition;

		const get = <T = Detail>(actor: Actor, path: string, status = 200) =>
			call<T>(server, actor, 'GET', path, undefined, status);
		const post = <T = Record<string, unknown>>(
			actor: Actor,
			path: string,
			body: unknown,
			status: number
		) => call<T>(server, actor, 'POST', path, body, status);
		const detail = (actor: Actor, id = studyId) => get<Detail>(actor, `/api/studies/${id}`);
		const list = async (actor: Actor, query = '') =>
			(await get<{ studies: Summary[] }>(actor, `/api/studies${query}`)).studies;

		beforeAll(async () => {
			const setup = await target.env();
			cleanup = setup.cleanup;
			server = await startServer(setup.env);
			admin = { cookie: await signUpFirstAdmin(server) };
			rhea = { cookie: await inviteAndSignUp(server, admin, PEOPLE.rhea) };
			ben = { cookie: await inviteAndSignUp(server, admin, PEOPLE.ben) };
			vera = { cookie: await inviteAndSignUp(server, admin, PEOPLE.vera) };
		});
		afterAll(async () => {
			await server?.stop();
			await cleanup?.();
		});

		test('creating: blank with a title, and from every template', async () => {
			expect((await send(server, null, 'GET', '/api/studies')).status).toBe(401);
			const blank = await post<{ id: string }>(
				rhea,
				'/api/studies',
				{ title: '  Trust game  ' },
				201
			);
			studyId = blank.id;
			const study = await detail(rhea);
			expect(study).toMatchObject({
				title: 'Trust game',
				status: 'draft',
				archived: false,
				access: 'owner',
				canEdit: true,
				canManage: true,
				revision: 1,
				latestVersion: null,
				latestHash: null,
				versions: [],
				members: [],
				owner: { name: PEOPLE.rhea.name, email: PEOPLE.rhea.email }
			});
			expect(study.draftHash).toBe(hashStudyDefinition(createBlankStudy('Trust game')));
			expect(study.slug).toMatch(/^[a-km-np-z2-9]{10}$/);
			expect(study.link).toBe(`${server.origin}/s/${study.slug}`);
			// Never published: participants never see a draft.
			expect((await fetch(study.link)).status).toBe(404);
			expect(study.changes.map((c) => [c.action, c.user])).toEqual([['created', PEOPLE.rhea.name]]);

			expect(STUDY_TEMPLATES.length).toBeGreaterThan(0);
			for (const template of STUDY_TEMPLATES) {
				const created = await post<{ id: string }>(
					rhea,
					'/api/studies',
					{ templateId: template.id },
					201
				);
				const fromTemplate = await detail(rhea, created.id);
				// Video templates get the demo clip, added to the media library once.
				const media = await call<{ media: { id: string; filename: string }[] }>(
					server,
					rhea,
					'GET',
					'/api/media',
					undefined,
					200
				);
				const demos = media.media.filter((item) => item.filename.includes('demo clip'));
				expect(demos).toHaveLength(STUDY_TEMPLATES.some((t) => t.needs.media) ? 1 : 0);
				const demoMediaId = template.needs.media ? demos[0]!.id : null;
				const expected = template.create({ demoMediaId });
				expect({ template: template.id, hash: fromTemplate.draftHash }).toEqual({
					template: template.id,
					hash: hashStudyDefinition(expected)
				});
				expect(fromTemplate.title).toBe(expected.settings.title);
				// Publishable at once, except for A/V, which needs LiveKit (not configured here).
				const check = await post<{ publishable: boolean; issues: { message: string }[] }>(
					rhea,
					`/api/studies/${created.id}/validate`,
					{},
					200
				);
				expect({ template: template.id, publishable: check.publishable }).toEqual({
					template: template.id,
					publishable: !template.needs.livekit
				});
				if (template.needs.livekit) {
					expect(check.issues.map((issue) => issue.message).join(' ')).toContain('LIVEKIT_URL');
				}
			}
			const unknown = await post<Problem>(
				rhea,
				'/api/studies',
				{ templateId: 'no-such-template' },
				400
			);
			expect(unknown.error).toBe('unknown_template');
			const badTitle = await post<Problem>(rhea, '/api/studies', { title: 42 }, 400);
			expect(badTitle.issues?.map((issue) => issue.path)).toEqual(['title']);

			const listed = await list(rhea);
			expect(listed).toHaveLength(1 + STUDY_TEMPLATES.length);
			expect(listed.find((s) => s.id === studyId)).toMatchObject({
				title: 'Trust game',
				status: 'draft',
				access: 'owner',
				latestVersion: null,
				participants: 0,
				owner: { name: PEOPLE.rhea.name },
				updatedBy: PEOPLE.rhea.name,
				hasUnpublishedChanges: true
			});
		});

		test('saving a draft: the revision goes up only on change; a stale revision is refused', async () => {
			const before = await detail(rhea);
			saved = structuredClone(before.draft);
			saved.settings.title = 'Trust game (pilot)';
			saved.settings.description = 'Two strangers, one pot.';
			const first = await call<{ revision: number; issues: unknown[] }>(
				server,
				rhea,
				'PUT',
				`/api/studies/${studyId}`,
				{ definition: saved, revision: 1 },
				200
			);
			expect(first.revision).toBe(2);
			expect(first.issues).toEqual([]);
			// The same content again changes nothing.
			const again = await call<{ revision: number }>(
				server,
				rhea,
				'PUT',
				`/api/studies/${studyId}`,
				{ definition: saved, revision: 2 },
				200
			);
			expect(again.revision).toBe(2);

			const stale = structuredClone(saved);
			stale.settings.description = 'An older tab.';
			const conflict = await call<Problem & { revision: number }>(
				server,
				rhea,
				'PUT',
				`/api/studies/${studyId}`,
				{ definition: stale, revision: 1 },
				409
			);
			expect(conflict).toMatchObject({ error: 'conflict', revision: 2 });
			const after = await detail(rhea);
			expect(after.revision).toBe(2);
			expect(after.draftHash).toBe(hashStudyDefinition(saved));
			expect(after.title).toBe('Trust game (pilot)');
			expect((await list(rhea)).find((s) => s.id === studyId)?.title).toBe('Trust game (pilot)');

			// Two tabs saving from the same revision at once: exactly one wins.
			const racing = ['Tab A', 'Tab B'].map((description) => {
				const definition = structuredClone(saved);
				definition.settings.description = description;
				return send(server, rhea, 'PUT', `/api/studies/${studyId}`, { definition, revision: 2 });
			});
			const statuses = (await Promise.all(racing)).map((response) => response.status).sort();
			expect(statuses).toEqual([200, 409]);
			const raced = await detail(rhea);
			expect(raced.revision).toBe(3);
			expect(['Tab A', 'Tab B']).toContain(raced.draft.settings.description);
			await call(
				server,
				rhea,
				'PUT',
				`/api/studies/${studyId}`,
				{ definition: saved, revision: 3 },
				200
			);
		});

		test('a bad body is refused with the paths of what is wrong', async () => {
			const broken = structuredClone(saved) as unknown as {
				stages: { title: unknown }[];
				settings: { language: unknown };
			};
			broken.stages[0]!.title = 5;
			broken.settings.language = 'English please';
			const invalid = await call<Problem>(
				server,
				rhea,
				'PUT',
				`/api/studies/${studyId}`,
				{ definition: broken, revision: 4 },
				400
			);
			expect(invalid.error).toBe('invalid_definition');
			expect(invalid.issues?.map((issue) => issue.path).sort()).toEqual([
				'settings.language',
				'stages.0.title'
			]);
			const noRevision = await call<Problem>(
				server,
				rhea,
				'PUT',
				`/api/studies/${studyId}`,
				{ definition: saved },
				400
			);
			expect(noRevision.issues?.map((issue) => issue.path)).toEqual(['revision']);
			const malformed = await call<Problem>(
				server,
				rhea,
				'PUT',
				`/api/studies/${studyId}`,
				'{"definition":',
				400
			);
			expect(malformed.error).toBe('invalid_json');
			expect((await detail(rhea)).revision).toBe(4);
		});

		test('validate lists the publish issues; publishing refuses them with 422', async () => {
			const incomplete = structuredClone(saved);
			const questionnaire = createStage(
				'questionnaire',
				incomplete.stages.map((s) => s.id)
			);
			incomplete.stages.splice(1, 0, questionnaire);
			const put = await call<{ revision: number; issues: { path: string }[] }>(
				server,
				rhea,
				'PUT',
				`/api/studies/${studyId}`,
				{ definition: incomplete, revision: 4 },
				200
			);
			expect(put.revision).toBe(5);
			// Saved anyway; the issues are for information.
			expect(put.issues.map((issue) => issue.path)).toEqual(['stages.1.content.items.0.prompt']);
			const validation = await post<{ publishable: boolean; issues: { path: string }[] }>(
				rhea,
				`/api/studies/${studyId}/validate`,
				undefined,
				200
			);
			expect(validation.publishable).toBe(false);
			expect(validation.issues.map((issue) => issue.path)).toEqual([
				'stages.1.content.items.0.prompt'
			]);
			const refused = await post<Problem>(rhea, `/api/studies/${studyId}/publish`, undefined, 422);
			expect(refused.error).toBe('not_publishable');
			expect(refused.issues?.map((issue) => issue.path)).toEqual([
				'stages.1.content.items.0.prompt'
			]);
			expect((await detail(rhea)).status).toBe('draft');

			const question = incomplete.stages[1]!;
			if (question.type !== 'questionnaire') throw new Error('expected the questionnaire');
			question.content.items[0]!.prompt = 'How much do you trust your partner?';
			saved = incomplete;
			await call(
				server,
				rhea,
				'PUT',
				`/api/studies/${studyId}`,
				{ definition: saved, revision: 5 },
				200
			);
			const ok = await post<{ publishable: boolean }>(
				rhea,
				`/api/studies/${studyId}/validate`,
				undefined,
				200
			);
			expect(ok).toEqual({ publishable: true, issues: [] } as never);
		});

		test('publishing makes version 1 with the draft hash; again unchanged makes none', async () => {
			const draft = await detail(rhea);
			const published = await post<{
				version: number;
				contentHash: string;
				created: boolean;
				link: string;
			}>(rhea, `/api/studies/${studyId}/publish`, undefined, 201);
			expect(published).toEqual({
				version: 1,
				contentHash: hashStudyDefinition(draft.draft),
				created: true,
				link: draft.link
			});
			expect(published.contentHash).toBe(draft.draftHash);
			const live = await detail(rhea);
			expect(live).toMatchObject({ status: 'live', latestVersion: 1, latestHash: draft.draftHash });
			expect(live.versions.map((v) => [v.version, v.publishedBy])).toEqual([[1, PEOPLE.rhea.name]]);
			const again = await post(rhea, `/api/studies/${studyId}/publish`, undefined, 200);
			expect(again).toMatchObject({ version: 1, created: false });
			expect((await list(rhea)).find((s) => s.id === studyId)).toMatchObject({
				latestVersion: 1,
				hasUnpublishedChanges: false
			});
		});

		test('editing after publishing leaves the version alone until the next publish', async () => {
			saved = structuredClone(saved);
			saved.settings.participantTitle = 'A short study about trust';
			await call(
				server,
				rhea,
				'PUT',
				`/api/studies/${studyId}`,
				{ definition: saved, revision: 6 },
				200
			);
			const edited = await detail(rhea);
			expect(edited.latestVersion).toBe(1);
			expect(edited.draftHash).not.toBe(edited.latestHash);
			expect((await list(rhea)).find((s) => s.id === studyId)?.hasUnpublishedChanges).toBe(true);
			const second = await post<{ version: number; created: boolean; contentHash: string }>(
				rhea,
				`/api/studies/${studyId}/publish`,
				undefined,
				201
			);
			expect(second).toMatchObject({ version: 2, created: true, contentHash: edited.draftHash });
			const after = await detail(rhea);
			expect(after.versions.map((v) => v.version)).toEqual([2, 1]);
			expect(after.versions[1]!.contentHash).not.toBe(after.versions[0]!.contentHash);
		});

		test('pause, resume, close; refused transitions say why; publishing reopens', async () => {
			const status = (action: string, expected: number) =>
				post<{ status: string } & Problem>(
					rhea,
					`/api/studies/${studyId}/${action}`,
					undefined,
					expected
				);
			expect((await status('resume', 409)).message).toBe(
				'Only a paused study can be resumed; a closed study goes live again by publishing.'
			);
			// The study link shows the published version's face and says when it is not open.
			const { slug } = await detail(rhea);
			const linkPage = async () => {
				const response = await fetch(`${server.url}/s/${slug}`);
				return { status: response.status, text: await response.text() };
			};
			const open = await linkPage();
			expect(open.status).toBe(200);
			expect(open.text).toContain('>Start</button>');
			expect(open.text).toContain('A short study about trust');
			expect((await fetch(`${server.url}/s/nosuchslug`)).status).toBe(404);
			expect((await status('pause', 200)).status).toBe('paused');
			expect((await linkPage()).text).toContain('This study is paused');
			const twice = await status('pause', 409);
			expect(twice).toMatchObject({
				error: 'invalid_transition',
				message: 'Only a live study can be paused.'
			});
			expect((await status('resume', 200)).status).toBe('live');
			expect((await status('close', 200)).status).toBe('closed');
			expect((await linkPage()).text).toContain('This study is closed');
			expect((await status('close', 409)).message).toBe(
				'Only a live or paused study can be closed.'
			);
			expect((await status('resume', 409)).error).toBe('invalid_transition');
			expect((await detail(rhea)).status).toBe('closed');
			const reopened = await post(rhea, `/api/studies/${studyId}/publish`, undefined, 200);
			expect(reopened).toMatchObject({ version: 2, created: false });
			expect((await detail(rhea)).status).toBe('live');
		});

		test('export then import gives a study with the same draft hash', async () => {
			const current = await detail(rhea);
			const response = await send(server, rhea, 'GET', `/api/studies/${studyId}/export?version=2`);
			expect(response.status).toBe(200);
			expect(response.headers.get('content-disposition')).toBe(
				'attachment; filename="trust-game-pilot.v2.ensemble.json"'
			);
			const document = (await response.json()) as {
				format: string;
				version: number;
				contentHash: string;
				definition: StudyDefinition;
			};
			expect(document).toMatchObject({
				format: 'ensemble-study',
				version: 2,
				contentHash: current.latestHash!
			});
			expect(hashStudyDefinition(document.definition)).toBe(current.latestHash!);

			const imported = await post<{ id: string }>(rhea, '/api/studies/import', document, 201);
			const copy = await detail(rhea, imported.id);
			expect(copy).toMatchObject({ status: 'draft', latestVersion: null, revision: 1 });
			expect(copy.draftHash).toBe(document.contentHash);
			expect(copy.id).not.toBe(studyId);
			expect(copy.slug).not.toBe(current.slug);
			expect(copy.changes.map((c) => [c.action, c.user])).toEqual([['imported', PEOPLE.rhea.name]]);

			// A bare definition (say, written by hand in a repository) imports too.
			const bare = await post<{ id: string }>(
				rhea,
				'/api/studies/import',
				document.definition,
				201
			);
			expect((await detail(rhea, bare.id)).draftHash).toBe(document.contentHash);

			const draftExport = await send(server, rhea, 'GET', `/api/studies/${studyId}/export`);
			expect(draftExport.headers.get('content-disposition')).toContain('.draft.ensemble.json');
			expect(((await draftExport.json()) as { version: unknown }).version).toBeNull();
			expect(
				(await send(server, rhea, 'GET', `/api/studies/${studyId}/export?version=9`)).status
			).toBe(404);
			expect(
				(await send(server, rhea, 'GET', `/api/studies/${studyId}/export?version=x`)).status
			).toBe(400);

			const wrong = await post<Problem>(
				rhea,
				'/api/studies/import',
				{ ...document, definition: { ...document.definition, stages: 'none' } },
				400
			);
			expect(wrong.error).toBe('invalid_definition');
			expect(wrong.issues?.map((issue) => issue.path)).toEqual(['definition.stages']);
			expect((await post<Problem>(rhea, '/api/studies/import', [1, 2], 400)).error).toBe(
				'invalid_body'
			);
		});

		test('duplicating copies the draft into a new study owned by the caller', async () => {
			const copy = await post<{ id: string }>(
				rhea,
				`/api/studies/${studyId}/duplicate`,
				undefined,
				201
			);
			const duplicated = await detail(rhea, copy.id);
			const source = await detail(rhea);
			expect(duplicated).toMatchObject({
				title: 'Copy of Trust game (pilot)',
				status: 'draft',
				latestVersion: null,
				access: 'owner'
			});
			expect(duplicated.draft.stages).toEqual(source.draft.stages);
			expect(duplicated.changes[0]).toMatchObject({
				action: 'duplicated',
				user: PEOPLE.rhea.name,
				detail: { fromStudyId: studyId }
			});
		});

		test('archiving hides a study from the default list', async () => {
			const copy = await post<{ id: string }>(
				rhea,
				`/api/studies/${studyId}/duplicate`,
				undefined,
				201
			);
			expect((await list(rhea)).map((s) => s.id)).toContain(copy.id);
			await post(rhea, `/api/studies/${copy.id}/archive`, undefined, 200);
			expect((await list(rhea)).map((s) => s.id)).not.toContain(copy.id);
			const archived = await list(rhea, '?archived=1');
			expect(archived.map((s) => [s.id, s.archived])).toEqual([[copy.id, true]]);
			await post(rhea, `/api/studies/${copy.id}/unarchive`, undefined, 200);
			expect((await list(rhea)).map((s) => s.id)).toContain(copy.id);
			expect(await list(rhea, '?archived=1')).toEqual([]);
		});

		test('sharing: invisible to others (404), view reads but cannot write (403), edit saves', async () => {
			const path = `/api/studies/${studyId}`;
			expect((await get<Problem>(ben, path, 404)).error).toBe('not_found');
			expect((await list(ben)).map((s) => s.id)).not.toContain(studyId);
			const revision = (await detail(rhea)).revision;
			await call(server, ben, 'PUT', path, { definition: saved, revision }, 404);
			await post(ben, `${path}/publish`, undefined, 404);
			await post(ben, `${path}/members`, { email: PEOPLE.ben.email, permission: 'edit' }, 404);

			// Admins see every study.
			expect((await detail(admin)).access).toBe('admin');

			const unknown = await post<Problem>(
				rhea,
				`${path}/members`,
				{ email: 'nobody@studies.test', permission: 'view' },
				400
			);
			expect(unknown.error).toBe('unknown_user');
			expect(
				(
					await post<Problem>(
						rhea,
						`${path}/members`,
						{ email: PEOPLE.rhea.email, permission: 'view' },
						400
					)
				).error
			).toBe('owner');
			expect(
				(
					await post<Problem>(rhea, `${path}/members`, { email: 'x', permission: 'own' }, 400)
				).issues
					?.map((issue) => issue.path)
					.sort()
			).toEqual(['email', 'permission']);

			await post(rhea, `${path}/members`, { email: 'BEN@studies.test', permission: 'view' }, 204);
			const viewing = await detail(ben);
			expect(viewing).toMatchObject({ access: 'view', canEdit: false, canManage: false });
			expect((await list(ben)).find((s) => s.id === studyId)?.access).toBe('view');
			const edited = structuredClone(saved);
			edited.settings.description = 'Ben was here.';
			const forbidden = await call<Problem>(
				server,
				ben,
				'PUT',
				path,
				{ definition: edited, revision },
				403
			);
			expect(forbidden.error).toBe('forbidden');
			await post(ben, `${path}/publish`, undefined, 403);
			await post(ben, `${path}/pause`, undefined, 403);
			await post(ben, `${path}/archive`, undefined, 403);
			await post(ben, `${path}/members`, { email: PEOPLE.vera.email, permission: 'view' }, 403);
			expect((await detail(rhea)).revision).toBe(revision);
			// Viewing is enough to validate, export and duplicate (a copy of one's own).
			await post(ben, `${path}/validate`, undefined, 200);
			expect((await send(server, ben, 'GET', `${path}/export`)).status).toBe(200);
			const bensCopy = await post<{ id: string }>(ben, `${path}/duplicate`, undefined, 201);
			expect((await detail(ben, bensCopy.id)).owner.email).toBe(PEOPLE.ben.email);

			await post(rhea, `${path}/members`, { email: PEOPLE.ben.email, permission: 'edit' }, 204);
			const members = await get<{ owner: { email: string }; members: Detail['members'] }>(
				ben,
				`${path}/members`
			);
			expect(members.owner.email).toBe(PEOPLE.rhea.email);
			expect(members.members.map((m) => [m.email, m.permission])).toEqual([
				[PEOPLE.ben.email, 'edit']
			]);
			expect((await detail(ben)).access).toBe('edit');
			const save = await call<{ revision: number }>(
				server,
				ben,
				'PUT',
				path,
				{ definition: edited, revision },
				200
			);
			expect(save.revision).toBe(revision + 1);
			saved = edited;
			// Editing does not include managing.
			await post(ben, `${path}/archive`, undefined, 403);

			const benId = members.members[0]!.userId;
			const removed = await send(server, rhea, 'DELETE', `${path}/members/${benId}`);
			expect(removed.status).toBe(204);
			await get(ben, path, 404);
		});

		test('a viewer cannot create, import or duplicate, and never gets more than view', async () => {
			const created = await post<Problem>(vera, '/api/studies', { title: 'Mine' }, 403);
			expect(created.error).toBe('forbidden');
			await post(vera, '/api/studies/import', saved, 403);
			await post(
				rhea,
				`/api/studies/${studyId}/members`,
				{ email: PEOPLE.vera.email, permission: 'edit' },
				204
			);
			const seen = await detail(vera);
			expect(seen).toMatchObject({ access: 'view', canEdit: false });
			await call(
				server,
				vera,
				'PUT',
				`/api/studies/${studyId}`,
				{ definition: saved, revision: seen.revision },
				403
			);
			await post(vera, `/api/studies/${studyId}/duplicate`, undefined, 403);
			expect(await list(vera)).toHaveLength(1);
		});

		test('API tokens: made with a session, used without cookie or Origin, revoked at once', async () => {
			const created = await post<{ token: string; record: { id: string; name: string } }>(
				rhea,
				'/api/tokens',
				{ name: 'analysis script' },
				201
			);
			expect(created.token).toMatch(/^ens_[a-km-np-z2-9]{16}_[a-km-np-z2-9]{24}$/);
			const script: Actor = { token: created.token };
			const listed = await get<{
				tokens: { id: string; name: string; lastUsedAt: string | null }[];
			}>(rhea, '/api/tokens');
			expect(listed.tokens.map((t) => [t.id, t.name, t.lastUsedAt])).toEqual([
				[created.record.id, 'analysis script', null]
			]);
			expect(JSON.stringify(listed)).not.toContain(created.token.split('_')[2]!);

			expect((await get<{ user: { email: string } }>(script, '/api/me')).user.email).toBe(
				PEOPLE.rhea.email
			);
			expect((await list(script)).map((s) => s.id)).toContain(studyId);
			const made = await post<{ id: string }>(script, '/api/studies', { title: 'By script' }, 201);
			const fresh = await detail(script, made.id);
			const definition = structuredClone(fresh.draft);
			definition.settings.description = 'Written by a script.';
			await call(
				server,
				script,
				'PUT',
				`/api/studies/${made.id}`,
				{ definition, revision: 1 },
				200
			);
			const published = await post(script, `/api/studies/${made.id}/publish`, undefined, 201);
			expect(published).toMatchObject({ version: 1, created: true });
			// The work is Rhea's: attributed to her in the log.
			expect((await detail(rhea, made.id)).changes.map((c) => [c.action, c.user])).toEqual([
				['published', PEOPLE.rhea.name],
				['draft_saved', PEOPLE.rhea.name],
				['created', PEOPLE.rhea.name]
			]);

			// Tokens cannot manage tokens.
			const mint = await post<Problem>(script, '/api/tokens', { name: 'another' }, 403);
			expect(mint.error).toBe('session_required');
			await get(script, '/api/tokens', 403);
			expect(
				(await send(server, script, 'DELETE', `/api/tokens/${created.record.id}`)).status
			).toBe(403);
			const used = await get<{ tokens: { lastUsedAt: string | null }[] }>(rhea, '/api/tokens');
			expect(used.tokens[0]!.lastUsedAt).not.toBeNull();

			// Without a token or cookie, no Origin: refused.
			expect((await send(server, null, 'POST', '/api/studies', {})).status).toBe(403);
			// Change the secret's last character (to one it is not: 1 in 32 tokens ends in x).
			const last = created.token.at(-1) === 'x' ? 'y' : 'x';
			const forged = await get<Problem>(
				{ token: `${created.token.slice(0, -1)}${last}` },
				'/api/studies',
				401
			);
			expect(forged.error).toBe('invalid_token');

			expect((await send(server, rhea, 'DELETE', `/api/tokens/${created.record.id}`)).status).toBe(
				204
			);
			const revoked = await get<Problem>(script, '/api/studies', 401);
			expect(revoked).toMatchObject({ error: 'invalid_token' });
			expect(revoked.message).toContain('revoked');
			expect((await get<{ tokens: unknown[] }>(rhea, '/api/tokens')).tokens).toEqual([]);
			expect((await send(server, rhea, 'DELETE', `/api/tokens/${created.record.id}`)).status).toBe(
				404
			);
		});

		test('the account page makes a token, shows it once, and revokes it', async () => {
			const submit = (actor: Actor, action: string, fields: Record<string, string>) => {
				const headers: Record<string, string> = {
					origin: server.origin,
					'content-type': 'application/x-www-form-urlencoded',
					accept: 'text/html'
				};
				if (actor && 'cookie' in actor) headers.cookie = actor.cookie;
				if (actor && 'token' in actor) headers.authorization = `Bearer ${actor.token}`;
				return fetch(`${server.url}/account?/${action}`, {
					method: 'POST',
					redirect: 'manual',
					headers,
					body: new URLSearchParams(fields)
				});
			};
			const created = await submit(ben, 'createToken', { name: 'Ben’s notebook' });
			expect(created.status).toBe(200);
			const page = await created.text();
			const token = /ens_[a-km-np-z2-9]{16}_[a-km-np-z2-9]{24}/.exec(page)?.[0];
			expect(token).toBeDefined();
			expect(page).toContain('it will not be shown again');
			const script: Actor = { token: token! };
			expect((await get<{ user: { email: string } }>(script, '/api/me')).user.email).toBe(
				PEOPLE.ben.email
			);

			const account = await (await send(server, ben, 'GET', '/account')).text();
			expect(account).toContain('Ben’s notebook');
			expect(account).not.toContain(token!);
			// Pages and form actions need a session: a token cannot make more tokens here either.
			const viaToken = await submit(script, 'createToken', { name: 'sneaky' });
			expect(viaToken.status).toBe(303);
			expect(viaToken.headers.get('location')).toStartWith('/login');
			const empty = await submit(ben, 'createToken', { name: '  ' });
			expect(empty.status).toBe(400);
			expect(await empty.text()).toContain('Name the token.');
			expect((await get<{ tokens: unknown[] }>(ben, '/api/tokens')).tokens).toHaveLength(1);

			const revoked = await submit(ben, 'revokeToken', { tokenId: parseTokenId(token!) });
			expect(revoked.status).toBe(200);
			expect(await revoked.text()).toContain('Token revoked.');
			await get(script, '/api/me', 401);
		});

		test('the change log attributes every write to the person who made it', async () => {
			const created = await post<{ id: string }>(rhea, '/api/studies', { title: 'Audit' }, 201);
			const path = `/api/studies/${created.id}`;
			const draft = (await detail(rhea, created.id)).draft;
			const save = async (actor: Actor, description: string, revision: number) => {
				const next = structuredClone(draft);
				next.settings.description = description;
				await call(server, actor, 'PUT', path, { definition: next, revision }, 200);
			};
			await save(rhea, 'one', 1);
			await save(rhea, 'two', 2); // coalesced with the save before
			await post(rhea, `${path}/publish`, undefined, 201);
			await post(rhea, `${path}/members`, { email: PEOPLE.ben.email, permission: 'edit' }, 204);
			await save(ben, 'three', 3);
			await save(rhea, 'four', 4); // someone else saved in between: a new entry
			await post(ben, `${path}/pause`, undefined, 200);
			await post(admin, `${path}/close`, undefined, 200);
			await post(rhea, `${path}/archive`, undefined, 200);
			await post(rhea, `${path}/unarchive`, undefined, 200);
			const ids = await get<{ members: { userId: string }[] }>(rhea, `${path}/members`);
			expect(
				(await send(server, rhea, 'DELETE', `${path}/members/${ids.members[0]!.userId}`)).status
			).toBe(204);

			const log = (await detail(rhea, created.id)).changes;
			expect(log.map((c) => [c.action, c.user])).toEqual([
				['unshared', PEOPLE.rhea.name],
				['unarchived', PEOPLE.rhea.name],
				['archived', PEOPLE.rhea.name],
				['closed', 'Ada Admin'],
				['paused', PEOPLE.ben.name],
				['draft_saved', PEOPLE.rhea.name],
				['draft_saved', PEOPLE.ben.name],
				['shared', PEOPLE.rhea.name],
				['published', PEOPLE.rhea.name],
				['draft_saved', PEOPLE.rhea.name],
				['created', PEOPLE.rhea.name]
			]);
			expect(log.at(-2)!.detail).toEqual({ fromRevision: 1, revision: 3 });
			expect(log[4]!.detail).toMatchObject({ from: 'live', to: 'paused' });
			expect(log[7]!.detail).toMatchObject({ email: PEOPLE.ben.email, permission: 'edit' });
			const times = log.map((c) => Date.parse(c.at));
			expect([...times].sort((a, b) => b - a)).toEqual(times);
			expect((await list(rhea)).find((s) => s.id === created.id)?.updatedBy).toBe(PEOPLE.rhea.name);
		});

		test('study documents up to the study body limit are accepted', async () => {
			const big = structuredClone(saved);
			big.settings.description = 'x'.repeat(4_000);
			// Long consent texts are the realistic way to a large study: ~600 KB here.
			for (let i = 0; i < 12; i++) {
				const stage = createStage(
					'instructions',
					big.stages.map((s) => s.id)
				);
				if (stage.type === 'instructions') stage.content.markdown = 'Lorem ipsum. '.repeat(3_800);
				big.stages.splice(1, 0, stage);
			}
			const body = JSON.stringify(big);
			expect(body.length).toBeGreaterThan(500_000);
			const imported = await post<{ id: string }>(rhea, '/api/studies/import', body, 201);
			expect((await detail(rhea, imported.id)).draftHash).toBe(hashStudyDefinition(big));
		});
	});
}
