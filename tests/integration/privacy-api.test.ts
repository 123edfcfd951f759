import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { parse } from 'devalue';
import { createBlankStudy, createStage } from '../../src/lib/study';
import { signUpFirstAdmin } from '../support/app';
import { startParticipant } from '../support/journey';
import { startServer, temporaryDataDir, type RunningServer } from '../support/server';

// The privacy routes on the built server (PGlite; the database logic runs on Postgres too in
// privacy.test.ts): a colleague without the data permission sees no external ids and cannot
// export or erase, over the API and the page; once granted (through the members API) it works
// with a session or an API token; the participants page erases with a typed confirmation;
// and the audit API shows one entry per access.
setDefaultTimeout(120_000);

const PASSWORD = 'sturdy evening lantern';
const PID = '5f00aa11bb22cc33dd44ee55';

type Actor = { cookie: string } | { token: string };

describe('privacy routes (built server, PGlite)', () => {
	let server: RunningServer;
	let removeData: () => void;
	let admin: Actor;
	let rhea: Actor;
	let ben: Actor;
	let vera: Actor;
	let studyId: string;
	let slug: string;
	let withPid: string;
	let other: string;

	function send(actor: Actor, method: string, path: string, body?: unknown): Promise<Response> {
		const headers = new Headers();
		if ('cookie' in actor) {
			headers.set('cookie', actor.cookie);
			if (method !== 'GET') headers.set('origin', server.origin);
		} else headers.set('authorization', `Bearer ${actor.token}`);
		if (body !== undefined) headers.set('content-type', 'application/json');
		return fetch(`${server.url}${path}`, {
			method,
			headers,
			redirect: 'manual',
			body: body === undefined ? undefined : JSON.stringify(body)
		});
	}

	async function call<T = Record<string, unknown>>(
		actor: Actor,
		method: string,
		path: string,
		body: unknown,
		status: number
	): Promise<T> {
		const response = await send(actor, method, path, body);
		const text = await response.text();
		if (response.status !== status) {
			throw new Error(`${method} ${path}: expected ${status}, got ${response.status}: ${text}`);
		}
		return (text ? JSON.parse(text) : null) as T;
	}

	async function invite(person: { name: string; email: string; role: string }): Promise<Actor> {
		const { url } = await call<{ url: string }>(
			admin,
			'POST',
			'/api/invites',
			{ role: person.role, email: person.email },
			201
		);
		const response = await fetch(`${server.url}${new URL(url).pathname}`, {
			method: 'POST',
			redirect: 'manual',
			headers: {
				origin: server.origin,
				'content-type': 'application/x-www-form-urlencoded',
				accept: 'text/html'
			},
			body: new URLSearchParams({ ...person, password: PASSWORD, confirm: PASSWORD })
		});
		const cookie = response.headers.getSetCookie().find((c) => c.includes('ensemble_session='));
		if (response.status !== 303 || !cookie) throw new Error(`invite failed: ${response.status}`);
		return { cookie: cookie.split(';')[0]! };
	}

	/** A form action as `use:enhance` posts it; the action's type, status and data. */
	async function act(actor: { cookie: string }, path: string, fields: Record<string, string>) {
		const response = await fetch(`${server.url}${path}`, {
			method: 'POST',
			headers: {
				origin: server.origin,
				cookie: actor.cookie,
				accept: 'application/json',
				'x-sveltekit-action': 'true',
				'content-type': 'application/x-www-form-urlencoded'
			},
			body: new URLSearchParams(fields)
		});
		const body = (await response.json()) as { type: string; status: number; data?: string };
		return {
			type: body.type,
			status: body.status,
			data: body.data ? (parse(body.data) as Record<string, unknown>) : null
		};
	}

	const participantsOf = (actor: Actor, query = '', status = 200) =>
		call<{
			participants: { id: string; externalIds?: { name: string; value: string }[] }[];
			dataAccess: boolean;
		}>(actor, 'GET', `/api/studies/${studyId}/participants${query}`, undefined, status);

	beforeAll(async () => {
		const data = temporaryDataDir();
		removeData = data.remove;
		server = await startServer({ DATA_DIR: data.dir, LOG_LEVEL: 'warn' });
		admin = { cookie: await signUpFirstAdmin(server) };
		rhea = await invite({ name: 'Rhea', email: 'rhea@privacy.test', role: 'researcher' });
		ben = await invite({ name: 'Ben', email: 'ben@privacy.test', role: 'researcher' });
		vera = await invite({ name: 'Vera', email: 'vera@privacy.test', role: 'viewer' });

		const created = await call<{ id: string }>(rhea, 'POST', '/api/studies', { title: 'P' }, 201);
		studyId = created.id;
		const detail = await call<{ revision: number; slug: string }>(
			rhea,
			'GET',
			`/api/studies/${studyId}`,
			undefined,
			200
		);
		slug = detail.slug;
		const definition = createBlankStudy('P');
		definition.settings.prolific = true;
		const consent = { ...createStage('consent', []), id: 'consent' };
		if (consent.type === 'consent') consent.content.markdown = 'We keep your answers.';
		definition.stages = [consent, ...definition.stages];
		await call(
			rhea,
			'PUT',
			`/api/studies/${studyId}`,
			{ definition, revision: detail.revision },
			200
		);
		await call(rhea, 'POST', `/api/studies/${studyId}/publish`, undefined, 201);
		for (const person of ['ben@privacy.test', 'vera@privacy.test']) {
			await call(
				rhea,
				'POST',
				`/api/studies/${studyId}/members`,
				{ email: person, permission: 'view' },
				204
			);
		}
		const link = { base: server.url, origin: server.origin };
		for (const query of [`?PROLIFIC_PID=${PID}&STUDY_ID=st&SESSION_ID=se`, '']) {
			expect((await startParticipant(link, slug, '', query)).status).toBe(303);
		}
		const everyone = await participantsOf(rhea, '?externalIds=1');
		withPid = everyone.participants.find((p) => p.externalIds?.length)!.id;
		other = everyone.participants.find((p) => p.id !== withPid)!.id;
	});
	afterAll(async () => {
		await server?.stop();
		removeData?.();
	});

	test('without the data permission: no external ids, 403 on export, erasure and external search', async () => {
		for (const actor of [ben, vera]) {
			const listed = await participantsOf(actor);
			expect(listed.dataAccess).toBe(false);
			expect(listed.participants.map((p) => p.id).sort()).toEqual([withPid, other].sort());
			expect(JSON.stringify(listed)).not.toContain(PID);
			for (const query of ['?externalIds=1', `?by=external&q=${PID}`]) {
				const refused = await participantsOf(actor, query, 403);
				expect(refused).toMatchObject({ error: 'data_permission' });
			}
			const path = `/api/studies/${studyId}/participants/${withPid}`;
			expect(await call(actor, 'GET', path, undefined, 403)).toMatchObject({
				error: 'data_permission'
			});
			expect(await call(actor, 'DELETE', path, undefined, 403)).toMatchObject({
				error: 'data_permission'
			});
			// The page: the list without ids, and a crafted address asking for them is refused.
			const page = await send(actor, 'GET', `/studies/${studyId}/participants`);
			const html = await page.text();
			expect(page.status).toBe(200);
			expect(html).toContain(withPid);
			expect(html).not.toContain(PID);
			expect(html).not.toContain('Download data');
			expect(
				(await send(actor, 'GET', `/studies/${studyId}/participants?externalIds=1`)).status
			).toBe(403);
			const erase = await act(
				actor as { cookie: string },
				`/studies/${studyId}/participants?/erase`,
				{
					participantId: withPid,
					confirm: withPid
				}
			);
			expect([erase.type, erase.status]).toEqual(['failure', 403]);
		}
		await participantsOf(ben, '?limit=0', 400);
		// Only the owner's own list with external ids (before these tests): the refusals left none.
		const audit = await call<{ events: { action: string; userEmail: string }[] }>(
			ben,
			'GET',
			`/api/studies/${studyId}/audit`,
			undefined,
			200
		);
		expect(audit.events.map((e) => [e.action, e.userEmail])).toEqual([
			['participant.list', 'rhea@privacy.test']
		]);
	});

	test('the members API grants the data permission (owner only; never to a viewer account)', async () => {
		const members = `/api/studies/${studyId}/members`;
		expect(
			await call(
				ben,
				'POST',
				members,
				{ email: 'ben@privacy.test', permission: 'view', dataAccess: true },
				403
			)
		).toMatchObject({ error: 'forbidden' });
		expect(
			await call(
				rhea,
				'POST',
				members,
				{ email: 'vera@privacy.test', permission: 'view', dataAccess: true },
				400
			)
		).toMatchObject({ error: 'viewer_account' });
		expect(
			await call(
				rhea,
				'POST',
				members,
				{ email: 'ben@privacy.test', permission: 'view', dataAccess: 'yes' },
				400
			)
		).toMatchObject({ error: 'invalid_body' });
		await call(
			rhea,
			'POST',
			members,
			{ email: 'ben@privacy.test', permission: 'view', dataAccess: true },
			204
		);
		const listed = await call<{ members: { email: string; dataAccess: boolean }[] }>(
			rhea,
			'GET',
			members,
			undefined,
			200
		);
		expect(listed.members.map((m) => [m.email, m.dataAccess])).toEqual([
			['ben@privacy.test', true],
			['vera@privacy.test', false]
		]);
	});

	test('with it: external ids, the JSON download and erasure, with a session or an API token', async () => {
		const { token } = await call<{ token: string }>(
			ben,
			'POST',
			'/api/tokens',
			{ name: 'analysis' },
			201
		);
		const script: Actor = { token };
		const shown = await participantsOf(script, '?externalIds=1');
		expect(shown.dataAccess).toBe(true);
		expect(shown.participants.find((p) => p.id === withPid)?.externalIds).toContainEqual(
			expect.objectContaining({ name: 'PROLIFIC_PID', value: PID })
		);
		const page = await (
			await send(ben, 'GET', `/studies/${studyId}/participants?externalIds=1`)
		).text();
		expect(page).toContain(PID);
		expect(page).toContain('Download data');

		const download = await send(script, 'GET', `/api/studies/${studyId}/participants/${withPid}`);
		expect(download.status).toBe(200);
		expect(download.headers.get('content-disposition')).toBe(
			`attachment; filename="participant-${withPid}.json"`
		);
		const document = (await download.json()) as Record<string, unknown>;
		expect((document.participant as { id: string }).id).toBe(withPid);
		expect(document.externalIds).toContainEqual({
			source: 'prolific',
			name: 'PROLIFIC_PID',
			value: PID
		});
		expect(JSON.stringify(document)).not.toContain('tokenHash');
		await call(script, 'GET', `/api/studies/${studyId}/participants/p-nobody`, undefined, 404);
		await call(script, 'GET', `/api/studies/${studyId}/participants/bad%20id`, undefined, 404);

		// The page asks for the id typed again; a mismatch erases nothing.
		const path = `/studies/${studyId}/participants?/erase`;
		const mismatch = await act(ben as { cookie: string }, path, {
			participantId: other,
			confirm: 'yes'
		});
		expect([mismatch.type, mismatch.status]).toEqual(['failure', 400]);
		expect((await participantsOf(ben)).participants).toHaveLength(2);
		const erasedByPage = await act(ben as { cookie: string }, path, {
			participantId: other,
			confirm: other
		});
		expect(erasedByPage.type).toBe('success');
		expect(erasedByPage.data).toMatchObject({ erased: { participantId: other } });

		const erased = await call<{ erased: Record<string, number> }>(
			script,
			'DELETE',
			`/api/studies/${studyId}/participants/${withPid}`,
			undefined,
			200
		);
		expect(erased.erased).toMatchObject({ participants: 1, externalIds: 3 });
		expect((await participantsOf(ben)).participants).toEqual([]);
		await call(script, 'DELETE', `/api/studies/${studyId}/participants/${withPid}`, undefined, 404);
	});

	test('the audit API: one entry per access, newest first, for anyone who sees the study', async () => {
		type Entry = { id: number; userEmail: string; action: string; detail: Record<string, unknown> };
		const audit = await call<{ events: Entry[]; next: number | null }>(
			vera,
			'GET',
			`/api/studies/${studyId}/audit`,
			undefined,
			200
		);
		expect(audit.events.map((e) => [e.action, e.userEmail])).toEqual([
			['participant.erase', 'ben@privacy.test'],
			['participant.erase', 'ben@privacy.test'],
			['participant.export', 'ben@privacy.test'],
			['participant.list', 'ben@privacy.test'],
			['participant.list', 'ben@privacy.test'],
			['data_access.grant', 'rhea@privacy.test'],
			['participant.list', 'rhea@privacy.test']
		]);
		expect(audit.events[0]!.detail).toMatchObject({ participantId: withPid });
		expect(JSON.stringify(audit)).not.toContain(PID);
		const first = await call<{ events: Entry[]; next: number | null }>(
			vera,
			'GET',
			`/api/studies/${studyId}/audit?limit=3`,
			undefined,
			200
		);
		expect(first.events.map((e) => e.id)).toEqual(audit.events.slice(0, 3).map((e) => e.id));
		const second = await call<{ events: Entry[] }>(
			vera,
			'GET',
			`/api/studies/${studyId}/audit?limit=3&before=${first.next}`,
			undefined,
			200
		);
		expect(second.events.map((e) => e.id)).toEqual(audit.events.slice(3, 6).map((e) => e.id));
		await call(vera, 'GET', `/api/studies/${studyId}/audit?before=x`, undefined, 400);
		const page = await send(vera, 'GET', `/studies/${studyId}/audit`);
		const html = await page.text();
		expect(page.status).toBe(200);
		expect(html).toContain('Erased a participant');
		expect(html).toContain('ben@privacy.test');
	});
});
