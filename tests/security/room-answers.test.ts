import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { PROTOCOL_VERSION } from '../../src/lib/protocol';
import { createBlankStudy, createQuestionItem, type StudyDefinition } from '../../src/lib/study';
import { actOnStep, joinStudy, readStep, respondToStage } from '../support/journey';
import { type RunningServer } from '../support/server';
import { requireService } from '../support/services';
import {
	createAdminApi,
	publishStudy,
	startStudyServer,
	type AdminApi,
	type StudyServer
} from '../support/study-server';

// Issue 14 §2: answers given in the room are validated like answers given alone. A participant
// sends the bad `stage.submit`s over their real room socket (the built server, their
// study cookie): each is answered `rejected` with a reason, and nothing reaches the log or the
// responses; a good answer afterwards is still acked and stored.
setDefaultTimeout(90_000);

const pg = requireService('TEST_DATABASE_URL', 'room answer security tests on Postgres');
const targets = [
	{ name: 'pglite', available: true, postgres: false },
	{ name: 'postgres', available: pg.available, postgres: true }
];

/**
 * One participant: a questionnaire answered alone before the room, then the room, which starts
 * on a timed questionnaire (a group phase, not pre-room).
 */
function makeSurveyStudy(): StudyDefinition {
	const study = createBlankStudy('Room answers');
	study.settings.session = {
		mode: 'matched',
		groupSize: 1,
		minGroupSize: 1,
		lobbyTimeoutSeconds: 60
	};
	const mood = { ...createQuestionItem('likert', []), id: 'mood', prompt: 'Mood' };
	const drink = {
		...createQuestionItem('choice', []),
		id: 'drink',
		prompt: 'Drink',
		required: false,
		options: [
			{ value: 'tea', label: 'Tea' },
			{ value: 'coffee', label: 'Coffee' }
		]
	};
	const note = {
		...createQuestionItem('short_text', []),
		id: 'note',
		prompt: 'Note',
		required: false,
		maxLength: 10
	};
	study.stages = [
		{
			// Untimed and all_submitted: answered alone before the room (the pre-room path).
			type: 'questionnaire',
			id: 'about',
			title: 'About you',
			durationSeconds: null,
			advance: 'all_submitted',
			dropout: { policy: 'continue', minMembers: 1 },
			content: { items: [{ ...mood, id: 'calm', prompt: 'Calm' }], randomizeOrder: false },
			variants: []
		},
		{
			type: 'questionnaire',
			id: 'survey',
			title: 'Survey',
			durationSeconds: 3600,
			advance: 'timer',
			dropout: { policy: 'continue', minMembers: 1 },
			content: { items: [mood, drink, note], randomizeOrder: false },
			variants: []
		},
		{
			type: 'end',
			id: 'end',
			title: 'End',
			durationSeconds: null,
			advance: 'all_submitted',
			dropout: { policy: 'end' },
			content: { markdown: 'Thanks.', outcome: 'completed' },
			variants: []
		}
	];
	return study;
}

type Frame = { type: string; id?: string; reason?: string; message?: string; seq?: number };

/** A participant's room socket, as the page opens it: the study cookie and a same-origin Origin. */
class ParticipantSocket {
	readonly frames: Frame[] = [];
	readonly #socket: WebSocket;
	readonly #opened: Promise<void>;

	constructor(server: RunningServer, slug: string, roomId: string, cookie: string) {
		const url = new URL(`/s/${slug}/realtime/${roomId}`, server.url);
		url.protocol = 'ws:';
		this.#socket = new WebSocket(url.toString(), {
			headers: { cookie, origin: server.origin }
		} as unknown as string[]);
		this.#socket.addEventListener('message', (event) => {
			this.frames.push(JSON.parse(String(event.data)) as Frame);
		});
		this.#opened = new Promise((resolve, reject) => {
			this.#socket.addEventListener('open', () => resolve());
			this.#socket.addEventListener('close', (event) => reject(new Error(`closed ${event.code}`)));
		});
	}

	async join(): Promise<void> {
		await this.#opened;
		this.#socket.send(JSON.stringify({ type: 'join', v: PROTOCOL_VERSION, lastSeq: 0 }));
		await this.waitFor((frame) => frame.type === 'view');
	}

	/** Sends `stage.submit` and waits for its answer: the ack or the rejection. */
	async submit(id: string, payload: unknown): Promise<Frame> {
		this.#socket.send(JSON.stringify({ type: 'command', id, name: 'stage.submit', payload }));
		return this.waitFor(
			(frame) => (frame.type === 'ack' || frame.type === 'rejected') && frame.id === id
		);
	}

	async waitFor(match: (frame: Frame) => boolean, ms = 10_000): Promise<Frame> {
		const deadline = Date.now() + ms;
		for (;;) {
			const found = this.frames.find(match);
			if (found) return found;
			if (Date.now() > deadline)
				throw new Error(`no matching frame in ${JSON.stringify(this.frames)}`);
			await Bun.sleep(20);
		}
	}

	close(): void {
		this.#socket.close();
	}
}

/** The bad submits, and a few more of each class; every one must be refused. */
const BAD_SUBMITS: [string, unknown, string][] = [
	[
		'a 7-point item answered 9999',
		{ type: 'questionnaire', answers: { mood: 9999 }, rtMs: 1200 },
		'invalid_answers'
	],
	[
		'an unknown item',
		{ type: 'questionnaire', answers: { mood: 4, ghost: 'boo' }, rtMs: 1200 },
		'invalid_answers'
	],
	[
		'a required item missing',
		{ type: 'questionnaire', answers: { drink: 'tea' }, rtMs: 1200 },
		'invalid_answers'
	],
	['rtMs -5', { type: 'questionnaire', answers: { mood: 4 }, rtMs: -5 }, 'invalid_response'],
	['a bare string', 'hello', 'invalid_response'],
	[
		'a choice not among the options',
		{ type: 'questionnaire', answers: { mood: 4, drink: 'gin' }, rtMs: 1 },
		'invalid_answers'
	],
	[
		'a text over its maximum length',
		{ type: 'questionnaire', answers: { mood: 4, note: 'x'.repeat(11) }, rtMs: 1 },
		'invalid_answers'
	],
	[
		'a likert point given as text',
		{ type: 'questionnaire', answers: { mood: '4' }, rtMs: 1 },
		'invalid_answers'
	],
	['the wrong kind of response', { type: 'continue' }, 'wrong_response'],
	[
		'extra fields',
		{ type: 'questionnaire', answers: { mood: 4 }, rtMs: 1, admin: true },
		'invalid_response'
	]
];

for (const target of targets) {
	describe.skipIf(!target.available)(`room answers are validated on ${target.name}`, () => {
		let setup: StudyServer;
		let server: RunningServer;
		let api: AdminApi;

		beforeAll(async () => {
			setup = await startStudyServer(target.postgres && pg.available ? pg.url : null);
			server = setup.server;
			api = createAdminApi(server, setup.admin);
		});
		afterAll(() => setup?.stop());

		async function exportRows(
			studyId: string,
			dataset: string
		): Promise<Record<string, unknown>[]> {
			const response = await fetch(
				`${server.url}/api/studies/${studyId}/data/${dataset}?format=ndjson`,
				{ headers: { cookie: setup.admin } }
			);
			expect(response.status).toBe(200);
			const text = await response.text();
			return text
				.split('\n')
				.filter((line) => line.trim() !== '')
				.map((line) => JSON.parse(line) as Record<string, unknown>);
		}

		test('bad answers alone and bad stage.submit frames are refused with a reason and store nothing; good ones are stored', async () => {
			const study = await publishStudy(api, makeSurveyStudy(), 'Room answers');
			const at = { base: server.url, origin: server.origin };
			const cookie = await joinStudy(at, study.slug);
			// Alone before the room, the same validator: 9999 on a 7-point scale is a 400.
			const alone = await respondToStage(at, study.slug, cookie, 'about', {
				type: 'questionnaire',
				answers: { calm: 9999 },
				rtMs: 500
			});
			expect(alone).toMatchObject({
				type: 'failure',
				status: 400,
				data: { reason: 'invalid_answers' }
			});
			expect(await exportRows(study.id, 'responses')).toEqual([]);
			const fine = { type: 'questionnaire', answers: { calm: 3 }, rtMs: 500 };
			expect((await respondToStage(at, study.slug, cookie, 'about', fine)).type).toBe('success');
			expect((await actOnStep(at, study.slug, cookie, 'ready')).type).toBe('success');
			const step = await readStep(at, study.slug, cookie);
			expect(step?.kind).toBe('in_room');
			const socket = new ParticipantSocket(server, study.slug, String(step!.roomId), cookie);
			try {
				await socket.join();
				let n = 0;
				for (const [name, response, reason] of BAD_SUBMITS) {
					const answer = await socket.submit(`bad-${++n}`, { stageId: 'survey', response });
					expect({ name, type: answer.type, reason: answer.reason }).toEqual({
						name,
						type: 'rejected',
						reason
					});
					expect(answer.message?.length ?? 0).toBeGreaterThan(0);
				}
				expect(socket.frames.some((f) => f.type === 'ack')).toBe(false);
				const before = await exportRows(study.id, 'responses');
				expect(before.map((row) => row.stage_id)).toEqual(['about']);
				const logged = await exportRows(study.id, 'events');
				expect(logged.filter((row) => row.type === 'stage.submitted')).toEqual([]);

				const good = {
					type: 'questionnaire',
					answers: { mood: 7, drink: 'coffee', note: 'fine' },
					rtMs: 2500
				};
				const ack = await socket.submit('good-1', { stageId: 'survey', response: good });
				expect(ack.type).toBe('ack');
				const rows = await exportRows(study.id, 'responses');
				const inRoom = rows.filter((row) => row.stage_id === 'survey');
				expect(inRoom.map((row) => [row.item_id, row.response, row.rt_ms])).toEqual([
					['mood', 7, 2500],
					['drink', 'coffee', 2500],
					['note', 'fine', 2500]
				]);
			} finally {
				socket.close();
			}
		});
	});
}
