import { describe, expect, test } from 'bun:test';
import { listAnsweredItems } from '../../src/lib/server/export/responses';
import { listWideColumns } from '../../src/lib/server/export/wide';
import { createBlankStudy, createQuestionItem, createStage, type Stage } from '../../src/lib/study';

function questionnaire(items: Parameters<typeof createQuestionItem>[0][], id = 'survey'): Stage {
	const stage = { ...createStage('questionnaire', []), id } as Stage;
	if (stage.type === 'questionnaire') {
		stage.content.items = items.map((kind, i) => ({
			...createQuestionItem(kind, []),
			id: `q${i}`,
			prompt: `Question ${i}`
		}));
	}
	return stage;
}

describe('response rows', () => {
	test('questionnaire answers become one row per item in the stage order, unknown ids last', () => {
		const stage = questionnaire(['likert', 'checkboxes', 'short_text']);
		const rows = listAnsweredItems(stage, {
			type: 'questionnaire',
			answers: { zz: 'extra', q2: 'text', q0: 4, q1: ['a', 'b'] },
			rtMs: 10
		});
		expect(rows).toEqual([
			{ id: 'q0', kind: 'likert', answer: 4 },
			{ id: 'q1', kind: 'checkboxes', answer: '["a","b"]' },
			{ id: 'q2', kind: 'short_text', answer: 'text' },
			{ id: 'zz', kind: null, answer: 'extra' }
		]);
	});

	test('consent, group choices (stored with or without a type), continue and incomplete stages give one row', () => {
		expect(listAnsweredItems(undefined, { type: 'consent', agreed: false })).toEqual([
			{ id: 'agreed', kind: null, answer: false }
		]);
		expect(listAnsweredItems(undefined, { option: 'b' })).toEqual([
			{ id: 'option', kind: null, answer: 'b' }
		]);
		expect(listAnsweredItems(undefined, { type: 'group_choice', option: 'a' })).toEqual([
			{ id: 'option', kind: null, answer: 'a' }
		]);
		expect(listAnsweredItems(undefined, { type: 'continue' })).toEqual([
			{ id: null, kind: null, answer: null }
		]);
		expect(listAnsweredItems(undefined, null)).toEqual([{ id: null, kind: null, answer: null }]);
		expect(
			listAnsweredItems(questionnaire(['likert']), { type: 'questionnaire', answers: {}, rtMs: 1 })
		).toHaveLength(1);
	});
});

describe('wide columns', () => {
	test('data stages only; variants add their items; versions merge by name; a changed type becomes text', () => {
		const v1 = createBlankStudy('Wide');
		const survey = questionnaire(['likert', 'choice']);
		if (survey.type === 'questionnaire') {
			survey.variants = [
				{
					when: { roles: [], conditions: ['treat'] },
					content: {
						...survey.content,
						items: [{ ...createQuestionItem('number', []), id: 'q9', prompt: 'Only treated' }]
					}
				}
			];
		}
		v1.stages = [
			createStage('instructions', []),
			survey,
			{ ...createStage('end', []), id: 'end' } as Stage
		];
		const v2 = structuredClone(v1);
		const changed = v2.stages[1]!;
		if (changed.type === 'questionnaire')
			changed.content.items[0] = {
				...createQuestionItem('short_text', []),
				id: 'q0',
				prompt: 'Now text'
			};
		v2.stages.push({ ...createStage('consent', []), id: 'late' } as Stage);

		const columns = listWideColumns(
			new Map([
				[1, v1],
				[2, v2]
			]),
			null
		);
		expect(columns.map((c) => `${c.column.name}:${c.column.type}`)).toEqual([
			'survey.q0:string',
			'survey.q1:string',
			'survey.q9:number',
			'survey._rt_ms:integer',
			'survey._status:string',
			'late.agreed:boolean',
			'late._status:string'
		]);
		expect(columns[1]!.column.levels).toEqual(['a', 'b']);
		expect(columns[2]!.column.description).toContain('Only treated');
		// Only the versions exported: version 1 alone keeps the likert type.
		const first = listWideColumns(
			new Map([
				[1, v1],
				[2, v2]
			]),
			[1]
		);
		expect(first.map((c) => `${c.column.name}:${c.column.type}`)).toContain('survey.q0:number');
		expect(first.some((c) => c.column.name.startsWith('late.'))).toBe(false);
	});
});
