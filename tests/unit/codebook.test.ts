import { describe, expect, test } from 'bun:test';
import {
	CONSENT_ITEM_ID,
	GROUP_CHOICE_ITEM_ID,
	buildVariableMeasured,
	describeStudyVariables,
	type DocumentedFile
} from '../../src/lib/study/codebook';
import {
	createBlankStudy,
	createQuestionItem,
	createStage,
	type QuestionItem,
	type StageOf,
	type StudyDefinition
} from '../../src/lib/study';

/** A questionnaire stage `id` with these items. */
function questionnaire(id: string, title: string, items: QuestionItem[]): StageOf<'questionnaire'> {
	const stage = createStage('questionnaire', []) as StageOf<'questionnaire'>;
	stage.id = id;
	stage.title = title;
	stage.content.items = items;
	return stage;
}

function item<K extends QuestionItem['kind']>(
	kind: K,
	id: string,
	prompt: string,
	changes: Partial<Extract<QuestionItem, { kind: K }>> = {}
): QuestionItem {
	return { ...createQuestionItem(kind, []), id, prompt, ...changes } as QuestionItem;
}

/** A study: consent, a questionnaire with one item of each kind, a group choice. */
function study(): StudyDefinition {
	const definition = createBlankStudy('Codebook');
	const consent = createStage('consent', []) as StageOf<'consent'>;
	consent.id = 'consent';
	const choice = createStage('group_choice', []) as StageOf<'group_choice'>;
	choice.id = 'pick';
	choice.content.prompt = 'Which film should the group watch?';
	definition.stages = [
		consent,
		questionnaire('intro', 'About you', [
			item('likert', 'mood', 'How do you feel?', { points: 5, minLabel: 'Bad', maxLabel: 'Great' }),
			item('choice', 'colour', 'Favourite colour?', {
				options: [
					{ value: 'red', label: 'Red' },
					{ value: 'blue', label: 'Blue' }
				]
			}),
			item('checkboxes', 'pets', 'Which pets?', {
				options: [
					{ value: 'cat', label: 'Cat' },
					{ value: 'dog', label: 'Dog' }
				]
			}),
			item('slider', 'trust', 'Trust in the group', { min: -10, max: 10 }),
			item('number', 'age', 'Your age', { min: 18, max: null }),
			item('short_text', 'nick', 'A nickname'),
			item('long_text', 'story', 'Tell us more')
		]),
		choice,
		...definition.stages
	];
	return definition;
}

describe('describeStudyVariables', () => {
	test('one variable per questionnaire item, consent and group choice, named stage.item', () => {
		const variables = describeStudyVariables(new Map([[1, study()]]));
		expect(variables.map((variable) => variable.name)).toEqual([
			`consent.${CONSENT_ITEM_ID}`,
			'intro.mood',
			'intro.colour',
			'intro.pets',
			'intro.trust',
			'intro.age',
			'intro.nick',
			'intro.story',
			`pick.${GROUP_CHOICE_ITEM_ID}`
		]);
	});

	test('levels come from the options, with their labels', () => {
		const byName = new Map(
			describeStudyVariables(new Map([[1, study()]])).map((variable) => [variable.name, variable])
		);
		expect(byName.get('intro.colour')?.levels).toEqual([
			{ value: 'red', label: 'Red' },
			{ value: 'blue', label: 'Blue' }
		]);
		expect(byName.get('intro.pets')?.multiple).toBe(true);
		expect(byName.get(`pick.${GROUP_CHOICE_ITEM_ID}`)?.levels?.map((level) => level.value)).toEqual(
			['a', 'b']
		);
		expect(byName.get(`pick.${GROUP_CHOICE_ITEM_ID}`)?.questions).toEqual([
			'Which film should the group watch?'
		]);
	});

	test('a likert item is 1…points with its end labels; sliders and numbers keep their bounds', () => {
		const byName = new Map(
			describeStudyVariables(new Map([[1, study()]])).map((variable) => [variable.name, variable])
		);
		const mood = byName.get('intro.mood')!;
		expect([mood.min, mood.max]).toEqual([1, 5]);
		expect(mood.levels).toEqual([
			{ value: '1', label: 'Bad' },
			{ value: '2', label: '' },
			{ value: '3', label: '' },
			{ value: '4', label: '' },
			{ value: '5', label: 'Great' }
		]);
		expect([byName.get('intro.trust')?.min, byName.get('intro.trust')?.max]).toEqual([-10, 10]);
		expect([byName.get('intro.age')?.min, byName.get('intro.age')?.max]).toEqual([18, null]);
		expect(byName.get('intro.nick')?.levels).toBeNull();
	});

	test('versions merge: newest wording first, every wording kept, levels unioned, bounds widened', () => {
		const older = study();
		const newer = study();
		const olderIntro = older.stages[1] as StageOf<'questionnaire'>;
		olderIntro.content.items[0] = item('likert', 'mood', 'How are you?', { points: 7 });
		olderIntro.content.items.push(item('short_text', 'gone', 'Only in version 1'));
		const newerChoice = newer.stages[2] as StageOf<'group_choice'>;
		newerChoice.content.options.push({ value: 'c', label: 'Option C' });

		const variables = describeStudyVariables(
			new Map([
				[1, older],
				[2, newer]
			])
		);
		const byName = new Map(variables.map((variable) => [variable.name, variable]));
		expect(byName.get('intro.mood')?.questions).toEqual(['How do you feel?', 'How are you?']);
		expect(byName.get('intro.mood')?.max).toBe(7);
		expect(byName.get('intro.mood')?.versions).toEqual([1, 2]);
		expect(byName.get('intro.gone')?.versions).toEqual([1]);
		expect(variables.at(-1)?.name).toBe('intro.gone');
		expect(byName.get(`pick.${GROUP_CHOICE_ITEM_ID}`)?.levels?.map((level) => level.value)).toEqual(
			['a', 'b', 'c']
		);
	});

	test('items that only a variant asks are variables too', () => {
		const definition = study();
		const intro = definition.stages[1] as StageOf<'questionnaire'>;
		intro.variants = [
			{
				when: { roles: [], conditions: ['control'] },
				content: { items: [item('number', 'extra', 'Only for control')], randomizeOrder: false }
			}
		];
		const names = describeStudyVariables(new Map([[1, definition]])).map((v) => v.name);
		expect(names).toContain('intro.extra');
	});
});

describe('buildVariableMeasured', () => {
	const files: DocumentedFile[] = [
		{
			path: 'data/study-s_description-wide_data.csv',
			columns: [
				{ name: 'participant_id', description: 'Pseudonymous participant id.' },
				{ name: 'intro.mood', description: 'Answer to intro.mood.' },
				{ name: 'intro.colour', description: 'Answer to intro.colour.' }
			]
		},
		{
			path: 'data/study-s_description-telemetry_data.csv',
			columns: [
				{ name: 'participant_id', description: 'Pseudonymous participant id.' },
				{ name: 'value', description: 'The measurement.', unit: 'bpm' },
				{
					name: 'sync_phase',
					description: 'What the player did.',
					levels: ['locked', 'seeking']
				}
			]
		},
		{
			path: 'data/sub-*/sub-*_task-*_events.tsv',
			columns: [
				{ name: 'onset', description: 'Media time.', unit: 's' },
				{ name: 'value', description: 'The rating.' }
			]
		}
	];

	test('covers every column of every file exactly once', () => {
		const measured = buildVariableMeasured(files, new Map([[1, study()]]));
		const names = measured.map((entry) => entry.name);
		const headers = new Set(files.flatMap((file) => file.columns.map((column) => column.name)));
		expect(new Set(names)).toEqual(headers);
		expect(names.length).toBe(headers.size);
		for (const entry of measured) {
			expect(entry['@type']).toBe('PropertyValue');
			expect(entry.description.length).toBeGreaterThan(0);
		}
	});

	test('a wide column gets its question text, levels and bounds', () => {
		const measured = buildVariableMeasured(files, new Map([[1, study()]]));
		const mood = measured.find((entry) => entry.name === 'intro.mood')!;
		expect(mood.description).toContain('How do you feel?');
		expect(mood.description).toContain('1 = Bad');
		expect(mood.description).toContain('5 = Great');
		expect(mood.levels).toEqual(['1', '2', '3', '4', '5']);
		expect([mood.minValue, mood.maxValue]).toEqual([1, 5]);
		const colour = measured.find((entry) => entry.name === 'intro.colour')!;
		expect(colour.levels).toEqual(['red', 'blue']);
		expect(colour.description).toContain('Favourite colour?');
		expect(colour.description).toContain('red = Red');
	});

	test('a name in two files is one entry that says where; differing texts are kept per file', () => {
		const measured = buildVariableMeasured(files, new Map([[1, study()]]));
		const participant = measured.find((entry) => entry.name === 'participant_id')!;
		expect(participant.description).toContain('data/study-s_description-wide_data.csv');
		expect(participant.description).toContain('data/study-s_description-telemetry_data.csv');
		const value = measured.find((entry) => entry.name === 'value')!;
		expect(value.description).toContain('The measurement.');
		expect(value.description).toContain('The rating.');
		// Only one of the two files gives a unit, so none is claimed for both.
		expect(value.unitText).toBeUndefined();
	});

	test('column levels and units carry over; a column that is no study variable keeps its text', () => {
		const measured = buildVariableMeasured(files, new Map([[1, study()]]));
		const phase = measured.find((entry) => entry.name === 'sync_phase')!;
		expect(phase.levels).toEqual(['locked', 'seeking']);
		expect(phase.description).toBe('What the player did.');
		expect(measured.find((entry) => entry.name === 'onset')?.unitText).toBe('s');
	});
});
