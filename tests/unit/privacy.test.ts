import { describe, expect, test } from 'bun:test';
import * as v from 'valibot';
import {
	applyStudyEvents,
	createStudyRoomState,
	memberView,
	type StudyEvent
} from '../../src/lib/room/study';
import {
	readKeyset,
	toByteStream,
	writeJsonObject
} from '../../src/lib/server/privacy/json-stream';
import { REDACTIONS, redactPayload } from '../../src/lib/server/privacy/redact';
import { ParticipantListQuery } from '../../src/lib/server/privacy/schemas';
import { AuditPageQuery } from '../../src/lib/server/audit/schemas';
import {
	describeAuditAction,
	describeAuditDetail
} from '../../src/routes/(app)/studies/[id]/audit/describe';
import { TestRoom, experimenter, makeStage, makeStudy, participant } from '../support/room-study';
import { createQuestionItem } from '../../src/lib/study';

/** The pure parts of privacy: the streamed JSON document, redaction, query schemas, wording. */

async function collect(pieces: AsyncGenerator<string>): Promise<string> {
	let text = '';
	for await (const piece of pieces) text += piece;
	return text;
}

async function* pagesOf<T>(...pages: T[][]): AsyncGenerator<T[]> {
	for (const page of pages) yield page;
}

describe('writeJsonObject', () => {
	test('values and paged arrays make one document that parses back', async () => {
		const text = await collect(
			writeJsonObject([
				{ key: 'format', value: 'ensemble-participant' },
				{ key: 'nothing', value: undefined },
				{ key: 'empty', pages: () => pagesOf() },
				{ key: 'emptyPages', pages: () => pagesOf([], []) },
				{ key: 'rows', pages: () => pagesOf([{ a: 1 }, { a: 2 }], [], [{ a: 3, s: 'quote " ,' }]) },
				{ key: 'when', value: { at: new Date(Date.UTC(2026, 0, 2)) } }
			])
		);
		expect(JSON.parse(text)).toEqual({
			format: 'ensemble-participant',
			nothing: null,
			empty: [],
			emptyPages: [],
			rows: [{ a: 1 }, { a: 2 }, { a: 3, s: 'quote " ,' }],
			when: { at: '2026-01-02T00:00:00.000Z' }
		});
	});

	test('the byte stream reads a page only when pulled, and cancelling stops the reads', async () => {
		let pagesRead = 0;
		async function* counted(): AsyncGenerator<number[]> {
			for (let i = 0; i < 100; i++) {
				pagesRead += 1;
				yield [i];
			}
		}
		const stream = toByteStream(writeJsonObject([{ key: 'n', pages: counted }]));
		const reader = stream.getReader();
		await reader.read(); // '{'
		await reader.read(); // '"n": ['
		await reader.read(); // the first page
		// A ReadableStream pulls once more to fill its queue (high-water mark 1), no further.
		await Bun.sleep(10);
		expect(pagesRead).toBeLessThanOrEqual(2);
		await reader.cancel();
		await Bun.sleep(10);
		expect(pagesRead).toBeLessThanOrEqual(2);
	});
});

describe('readKeyset', () => {
	test('asks for the page after the last key until a short page', async () => {
		const rows = Array.from({ length: 7 }, (_, i) => ({ id: i + 1 }));
		const asked: (number | null)[] = [];
		const pages: number[][] = [];
		for await (const page of readKeyset(
			async (after: number | null, size) => {
				asked.push(after);
				return rows.filter((row) => row.id > (after ?? 0)).slice(0, size);
			},
			(row) => row.id,
			3
		)) {
			pages.push(page.map((row) => row.id));
		}
		expect(pages).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
		expect(asked).toEqual([null, 3, 6]);
	});

	test('an exact multiple ends with one empty read and no empty page', async () => {
		const pages: number[][] = [];
		for await (const page of readKeyset(
			async (after: number | null) => (after === null ? [1, 2] : after === 2 ? [3, 4] : []),
			(row) => row,
			2
		)) {
			pages.push(page);
		}
		expect(pages).toEqual([
			[1, 2],
			[3, 4]
		]);
	});
});

describe('redactPayload', () => {
	test("overwrites only the erased member's answers, picks, chat and goals", () => {
		expect(
			redactPayload(
				'stage.submitted',
				{ stageId: 'q', memberId: 'p-a', response: { q: 'my name' }, at: 1 },
				'p-a'
			)
		).toEqual({
			stageId: 'q',
			memberId: 'p-a',
			response: { redacted: true },
			redacted: true,
			at: 1
		});
		expect(
			redactPayload('chat.sent', { id: 1, memberId: 'p-a', text: 'hi', at: 1, stageId: 's' }, 'p-a')
		).toMatchObject({ text: '', redacted: true });
		expect(
			redactPayload('goal.set', { memberId: 'p-a', text: 'focus', stageId: 's', at: 1 }, 'p-a')
		).toMatchObject({ text: '', redacted: true });
		expect(
			redactPayload(
				'group_choice.picked',
				{ memberId: 'p-a', option: 'x', stageId: 's', at: 1 },
				'p-a'
			)
		).toMatchObject({ option: '', redacted: true });
		const other = { id: 2, memberId: 'p-b', text: 'hello', at: 1, stageId: 's' };
		expect(redactPayload('chat.sent', other, 'p-a')).toBe(other);
		const structural = { memberId: 'p-a', connected: true };
		expect(redactPayload('member.connection', structural, 'p-a')).toBe(structural);
		expect(redactPayload('chat.sent', null, 'p-a')).toBeNull();
	});

	test('every rule marks the payload redacted', () => {
		for (const patch of Object.values(REDACTIONS)) expect(patch.redacted).toBe(true);
	});

	test('a redacted log replays: same stages and members, only the content is gone', () => {
		const chat = makeStage('chat', 'talk', { advance: 'experimenter' });
		const questions = makeStage('questionnaire', 'q', { advance: 'all_submitted' });
		if (questions.type === 'questionnaire') {
			questions.content.items = [{ ...createQuestionItem('short_text', []), id: 'q' }];
		}
		const room = new TestRoom(
			makeStudy([questions, chat, makeStage('instructions', 'after', { advance: 'experimenter' })])
		);
		room.submit('a', { type: 'questionnaire', answers: { q: 'secret answer' }, rtMs: 0 });
		room.submit('b', { type: 'questionnaire', answers: { q: 'other answer' }, rtMs: 0 });
		room.ok(participant('a'), 'chat.send', { stageId: 'talk', text: 'I live in Lyon' });
		room.ok(participant('b'), 'chat.send', { stageId: 'talk', text: 'hello' });
		room.ok(experimenter, 'stage.advance', { fromStageId: 'talk' });

		const redacted = room.log.map(
			(event) =>
				({ ...event, payload: redactPayload(event.name, event.payload, 'a') }) as StudyEvent
		);
		const fold = (log: StudyEvent[]) =>
			applyStudyEvents(
				createStudyRoomState({
					definition: room.state.definition,
					version: 1,
					members: ['a', 'b'].map((id) => ({
						id,
						role: 'participant',
						condition: 'control',
						isBot: false
					})),
					now: 1_000_000
				}),
				log
			);
		const original = fold(room.log);
		const replayed = fold(redacted);
		expect(replayed.stageIndex).toBe(original.stageIndex);
		expect(Object.keys(replayed.members)).toEqual(Object.keys(original.members));
		expect(replayed.submissions.q?.a?.response).toEqual({ redacted: true });
		expect(replayed.submissions.q?.b?.response).toEqual({
			type: 'questionnaire',
			answers: { q: 'other answer' },
			rtMs: 0
		});
		expect(replayed.chat?.map((m) => [m.memberId, m.text])).toEqual([
			['a', ''],
			['b', 'hello']
		]);
		expect(memberView(replayed, 'b')?.stageIndex).toBe(memberView(original, 'b')?.stageIndex);
		expect(JSON.stringify(redacted)).not.toContain('Lyon');
		expect(JSON.stringify(redacted)).not.toContain('secret answer');
	});
});

describe('query schemas', () => {
	test('the participant list has safe defaults and refuses bad pages clearly', () => {
		expect(v.parse(ParticipantListQuery, {})).toEqual({
			q: '',
			by: 'participant',
			externalIds: false,
			limit: 50
		});
		expect(
			v.parse(ParticipantListQuery, {
				q: '  5f00aa ',
				by: 'external',
				externalIds: '1',
				after: '1732270000123.p-abc',
				limit: '10',
				utm_source: 'ignored'
			})
		).toEqual({
			q: '5f00aa',
			by: 'external',
			externalIds: true,
			after: '1732270000123.p-abc',
			limit: 10
		});
		for (const bad of [
			{ limit: '0' },
			{ limit: '201' },
			{ limit: 'ten' },
			{ by: 'email' },
			{ externalIds: 'yes' },
			{ after: 'p-abc' },
			{ after: "1.p-abc' or 1=1" },
			{ q: 'x'.repeat(201) }
		]) {
			expect(v.safeParse(ParticipantListQuery, bad).success).toBe(false);
		}
	});

	test('the audit page takes an entry id cursor', () => {
		expect(v.parse(AuditPageQuery, {})).toEqual({ limit: 50 });
		expect(v.parse(AuditPageQuery, { before: '120', limit: '5' })).toEqual({
			before: 120,
			limit: 5
		});
		for (const bad of [{ before: '0' }, { before: '-3' }, { before: 'x' }, { limit: '1000' }]) {
			expect(v.safeParse(AuditPageQuery, bad).success).toBe(false);
		}
	});
});

describe('audit wording', () => {
	test('known actions get a label; unknown ones read as themselves', () => {
		expect(describeAuditAction('participant.erase')).toBe('Erased a participant');
		expect(describeAuditAction('plots.view')).toBe('plots.view');
	});

	test('details become short lines, long lists cut', () => {
		expect(
			describeAuditDetail({
				participantId: 'p-1',
				counts: { stageResponses: 3, telemetry: 12 },
				search: null,
				participantIds: Array.from({ length: 10 }, (_, i) => `p-${i}`)
			})
		).toEqual([
			'participantId: p-1',
			'counts: stageResponses 3, telemetry 12',
			'search: —',
			'participantIds: p-0, p-1, p-2, p-3, p-4, p-5, p-6, p-7 (+2 more)'
		]);
		expect(describeAuditDetail({ ids: [] })).toEqual(['ids: none']);
	});
});
