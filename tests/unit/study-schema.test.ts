import { describe, expect, test } from 'bun:test';
import {
	STAGE_TYPES,
	STUDY_TEMPLATES,
	createBlankStudy,
	createQuestionItem,
	createStage,
	parseStudyDefinition,
	validateStudy,
	type QuestionItem,
	type Stage,
	type StageType,
	type StudyDefinition,
	type ValidationContext
} from '../../src/lib/study';

const DEMO_MEDIA = 'media_demo';
const IMAGE_MEDIA = 'media_image';
const CONTEXT: ValidationContext = {
	livekitConfigured: true,
	media: new Map([
		[DEMO_MEDIA, { kind: 'video' }],
		[IMAGE_MEDIA, { kind: 'image' }]
	])
};

/** A stage of `type` with `id`, its defaults filled in so it is publishable unless `edit` breaks it. */
function makeStage(type: StageType, id: string, edit?: (stage: Stage) => void): Stage {
	const stage = createStage(type, []);
	stage.id = id;
	if (stage.type === 'video') stage.content.mediaId = DEMO_MEDIA;
	if (stage.type === 'questionnaire') {
		stage.content.items = stage.content.items.map((item) => ({ ...item, prompt: 'How was it?' }));
	}
	if (stage.type === 'group_choice') stage.content.prompt = 'Which one?';
	edit?.(stage);
	return stage;
}

/** A questionnaire stage holding one item of `kind`, shaped by `edit`. */
function makeQuestion(
	kind: QuestionItem['kind'],
	edit: (item: QuestionItem) => void = () => {}
): Stage {
	return makeStage('questionnaire', 'survey', (stage) => {
		if (stage.type !== 'questionnaire') return;
		const item = { ...createQuestionItem(kind, []), prompt: 'Your answer?' };
		edit(item);
		stage.content.items = [item];
	});
}

/** The blank study with `stages` before its end stage. */
function studyWith(...stages: Stage[]): StudyDefinition {
	const study = createBlankStudy('Catalogue');
	study.stages = [...stages, makeStage('end', 'end')];
	return study;
}

/** Anything, as a plain object the tests may break (shape errors need wrong types). */
type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function loose(definition: StudyDefinition): Loose {
	return definition as unknown as Loose;
}

describe('valid definitions', () => {
	test('the blank study is publishable', () => {
		expect(validateStudy(createBlankStudy(), CONTEXT)).toMatchObject({ ok: true });
	});

	test.each(STUDY_TEMPLATES.map((template) => [template.id, template] as const))(
		'the %s template is publishable with a demo video',
		(_id, template) => {
			const result = validateStudy(template.create({ demoMediaId: DEMO_MEDIA }), {
				livekitConfigured: true,
				media: new Map([[DEMO_MEDIA, { kind: 'video' }]])
			});
			expect(result.ok ? [] : result.issues).toEqual([]);
		}
	);

	test.each(STAGE_TYPES)('the default %s stage has a valid shape', (type) => {
		const study = createBlankStudy();
		study.stages.splice(1, 0, createStage(type, ['instructions', 'end']));
		const result = parseStudyDefinition(study);
		expect(result.ok ? [] : result.issues).toEqual([]);
	});

	test('parsing keeps the definition as it was', () => {
		const study = STUDY_TEMPLATES[0]!.create({ demoMediaId: DEMO_MEDIA });
		const result = parseStudyDefinition(JSON.parse(JSON.stringify(study)));
		expect(result).toEqual({ ok: true, definition: study });
	});
});

type BrokenCase = {
	name: string;
	build: () => unknown;
	/** Every issue expected: its exact path and a fragment of its message. */
	issues: [path: string, fragment: string][];
	context?: ValidationContext;
};

const BROKEN: BrokenCase[] = [
	{
		name: 'missing title',
		build: () => {
			const study = loose(createBlankStudy());
			delete study.settings.title;
			return study;
		},
		issues: [['settings.title', 'title is missing.']]
	},
	{
		name: 'blank title',
		build: () => {
			const study = createBlankStudy();
			study.settings.title = '   ';
			return study;
		},
		issues: [['settings.title', 'A title is required']]
	},
	{
		name: 'smallest group larger than the group size',
		build: () => {
			const study = createBlankStudy();
			study.settings.session = {
				mode: 'matched',
				groupSize: 2,
				minGroupSize: 3,
				lobbyTimeoutSeconds: 300
			};
			return study;
		},
		issues: [['settings.session.minGroupSize', 'cannot be larger than the group size (2)']]
	},
	{
		name: 'smallest cohort larger than the largest',
		build: () => {
			const study = createBlankStudy();
			study.settings.session = {
				mode: 'scheduled',
				intervalMinutes: 15,
				firstStartAt: '',
				minCohortSize: 5,
				maxCohortSize: 3
			};
			return study;
		},
		issues: [['settings.session.minCohortSize', 'smallest cohort (5) cannot be larger']]
	},
	{
		name: 'roles needing more members than the smallest group',
		build: () => {
			const study = createBlankStudy();
			study.settings.roles[0]!.minCount = 3;
			return study;
		},
		issues: [['settings.roles', 'need at least 3 members per group']]
	},
	{
		name: 'roles holding fewer members than the largest group',
		build: () => {
			const study = createBlankStudy();
			study.settings.roles[0]!.maxCount = 1;
			return study;
		},
		issues: [['settings.roles', 'hold at most 1 members, but a group can have 2']]
	},
	{
		name: 'duplicate stage ids',
		build: () => studyWith(makeStage('instructions', 'intro'), makeStage('instructions', 'intro')),
		issues: [
			['stages.0.id', 'The stage id "intro" is used twice'],
			['stages.1.id', 'The stage id "intro" is used twice']
		]
	},
	{
		name: 'duplicate role ids',
		build: () => {
			const study = createBlankStudy();
			study.settings.roles.push({ id: 'participant', name: 'Other', minCount: 0, maxCount: null });
			return study;
		},
		issues: [
			['settings.roles.0.id', 'The role id "participant" is used twice'],
			['settings.roles.1.id', 'The role id "participant" is used twice']
		]
	},
	{
		name: 'duplicate condition ids',
		build: () => {
			const study = createBlankStudy();
			study.settings.conditions.list.push({ id: 'control', name: 'Again' });
			return study;
		},
		issues: [
			['settings.conditions.list.0.id', 'The condition id "control" is used twice'],
			['settings.conditions.list.1.id', 'The condition id "control" is used twice']
		]
	},
	{
		name: 'duplicate item ids',
		build: () =>
			studyWith(
				makeStage('questionnaire', 'survey', (stage) => {
					if (stage.type !== 'questionnaire') return;
					const item = stage.content.items[0]!;
					stage.content.items = [item, { ...item }];
				})
			),
		issues: [
			['stages.0.content.items.0.id', 'The item id "q" is used twice'],
			['stages.0.content.items.1.id', 'The item id "q" is used twice']
		]
	},
	{
		name: 'duplicate option values',
		build: () =>
			studyWith(
				makeQuestion('choice', (item) => {
					if (item.kind === 'choice') item.options[1]!.value = item.options[0]!.value;
				})
			),
		issues: [
			['stages.0.content.items.0.options.0.value', 'The option value "a" is used twice'],
			['stages.0.content.items.0.options.1.value', 'The option value "a" is used twice']
		]
	},
	{
		name: 'a stage id with spaces and capitals',
		build: () => studyWith(makeStage('instructions', 'Intro Stage')),
		issues: [['stages.0.id', 'Stage id must start with a letter']]
	},
	{
		name: 'a role id starting with a digit',
		build: () => {
			const study = createBlankStudy();
			study.settings.roles[0]!.id = '1st';
			return study;
		},
		issues: [['settings.roles.0.id', 'Role id must start with a letter']]
	},
	{
		name: 'advance on the timer without a duration',
		build: () =>
			studyWith(
				makeStage('instructions', 'intro', (stage) => {
					stage.advance = 'timer';
					stage.durationSeconds = null;
				})
			),
		issues: [['stages.0.durationSeconds', 'advances on its timer, so it needs a duration']]
	},
	{
		name: 'a wait stage without a timeout',
		build: () => studyWith(makeStage('wait', 'wait', (stage) => (stage.durationSeconds = null))),
		issues: [['stages.0.durationSeconds', 'A wait stage needs a timeout']]
	},
	{
		name: 'a video without media',
		build: () =>
			studyWith(
				makeStage('video', 'clip', (stage) => {
					if (stage.type === 'video') stage.content.mediaId = null;
				})
			),
		issues: [['stages.0.content.mediaId', 'Choose a video from the media library']]
	},
	{
		name: 'a video with an unknown media id',
		build: () =>
			studyWith(
				makeStage('video', 'clip', (stage) => {
					if (stage.type === 'video') stage.content.mediaId = 'media_gone';
				})
			),
		issues: [['stages.0.content.mediaId', 'no longer in the library']]
	},
	{
		name: 'a video stage showing an image',
		build: () =>
			studyWith(
				makeStage('video', 'clip', (stage) => {
					if (stage.type === 'video') stage.content.mediaId = IMAGE_MEDIA;
				})
			),
		issues: [['stages.0.content.mediaId', 'not an image']]
	},
	{
		name: 'a conversation without LiveKit',
		build: () => studyWith(makeStage('conversation', 'talk')),
		context: { ...CONTEXT, livekitConfigured: false },
		issues: [['stages.0.content', 'Audio/video needs LiveKit']]
	},
	{
		name: 'a conversation with neither audio nor video',
		build: () =>
			studyWith(
				makeStage('conversation', 'talk', (stage) => {
					if (stage.type !== 'conversation') return;
					stage.content.audio = false;
					stage.content.video = false;
				})
			),
		issues: [['stages.0.content.audio', 'needs audio, video or both']]
	},
	{
		name: 'a questionnaire without items',
		build: () =>
			studyWith(
				makeStage('questionnaire', 'survey', (stage) => {
					if (stage.type === 'questionnaire') stage.content.items = [];
				})
			),
		issues: [['stages.0.content.items', 'Add at least one question']]
	},
	{
		name: 'a choice with one option',
		build: () =>
			studyWith(
				makeQuestion('choice', (item) => {
					if (item.kind === 'choice') item.options.length = 1;
				})
			),
		issues: [['stages.0.content.items.0.options', 'Add at least two options']]
	},
	{
		name: 'checkboxes requiring more selections than options',
		build: () =>
			studyWith(
				makeQuestion('checkboxes', (item) => {
					if (item.kind === 'checkboxes') item.minSelected = 3;
				})
			),
		issues: [['stages.0.content.items.0.minSelected', 'More selections are required than there']]
	},
	{
		name: 'a slider whose minimum equals its maximum',
		build: () =>
			studyWith(
				makeQuestion('slider', (item) => {
					if (item.kind !== 'slider') return;
					item.min = 10;
					item.max = 10;
				})
			),
		issues: [['stages.0.content.items.0.max', 'maximum must be above the minimum']]
	},
	{
		name: 'a number whose minimum is above its maximum',
		build: () =>
			studyWith(
				makeQuestion('number', (item) => {
					if (item.kind !== 'number') return;
					item.min = 5;
					item.max = 1;
				})
			),
		issues: [['stages.0.content.items.0.max', 'maximum must not be below the minimum']]
	},
	{
		name: 'a stage after the end stage',
		build: () => {
			const study = studyWith(makeStage('instructions', 'intro'));
			study.stages.push(makeStage('instructions', 'epilogue'));
			return study;
		},
		issues: [['stages.2', 'No stage can come after the end stage']]
	},
	{
		name: 'no end stage',
		build: () => {
			const study = createBlankStudy();
			study.stages = study.stages.filter((stage) => stage.type !== 'end');
			return study;
		},
		issues: [['stages', 'The last stage must be an end stage']]
	},
	{
		name: 'no stages',
		build: () => ({ ...createBlankStudy(), stages: [] }),
		issues: [['stages', 'Add at least one stage']]
	},
	{
		name: 'a variant naming an unknown role',
		build: () =>
			studyWith(
				makeStage('instructions', 'intro', (stage) => {
					if (stage.type !== 'instructions') return;
					stage.variants = [{ when: { roles: ['ghost'], conditions: [] }, content: stage.content }];
				})
			),
		issues: [['stages.0.variants.0.when.roles.0', 'There is no role "ghost"']]
	},
	{
		name: 'a variant naming an unknown condition',
		build: () =>
			studyWith(
				makeStage('instructions', 'intro', (stage) => {
					if (stage.type !== 'instructions') return;
					stage.variants = [
						{ when: { roles: [], conditions: ['placebo'] }, content: stage.content }
					];
				})
			),
		issues: [['stages.0.variants.0.when.conditions.0', 'There is no condition "placebo"']]
	},
	{
		name: 'a variant with an empty when',
		build: () =>
			studyWith(
				makeStage('instructions', 'intro', (stage) => {
					if (stage.type !== 'instructions') return;
					stage.variants = [{ when: { roles: [], conditions: [] }, content: stage.content }];
				})
			),
		issues: [['stages.0.variants.0.when', 'must name at least one role or condition']]
	},
	{
		name: 'a redirect URL that is not http(s)',
		build: () => {
			const study = createBlankStudy();
			study.settings.outcomes.completed.redirectUrl = 'javascript:alert(1)';
			return study;
		},
		issues: [['settings.outcomes.completed.redirectUrl', 'must be empty or an http(s):// URL']]
	},
	{
		name: 'an unknown stage type',
		build: () => {
			const study = loose(createBlankStudy());
			study.stages[0].type = 'slideshow';
			return study;
		},
		issues: [['stages.0.type', 'must be one of "instructions", "consent"']]
	},
	{
		name: 'a stage without a type',
		build: () => {
			const study = loose(createBlankStudy());
			delete study.stages[0].type;
			return study;
		},
		issues: [['stages.0.type', 'type is missing.']]
	},
	{
		name: 'an unknown picklist value',
		build: () => {
			const study = loose(createBlankStudy());
			study.settings.conditions.assignment = 'alphabetical';
			return study;
		},
		issues: [
			['settings.conditions.assignment', 'must be one of "random", "balanced", not "alphabetical"']
		]
	},
	{
		name: 'a wrong schemaVersion',
		build: () => ({ ...createBlankStudy(), schemaVersion: 2 }),
		issues: [['schemaVersion', 'schemaVersion must be 1']]
	},
	{
		name: 'a string where a number belongs',
		build: () => {
			const study = loose(createBlankStudy());
			study.settings.session.groupSize = '2';
			return study;
		},
		issues: [['settings.session.groupSize', 'must be a number']]
	},
	{
		name: 'an object where a list belongs',
		build: () => {
			const study = loose(createBlankStudy());
			study.settings.roles = { participant: true };
			return study;
		},
		issues: [['settings.roles', 'must be a list']]
	},
	{
		name: 'a fractional group size',
		build: () => {
			const study = loose(createBlankStudy());
			study.settings.session.groupSize = 2.5;
			return study;
		},
		issues: [['settings.session.groupSize', 'must be a whole number']]
	},
	{
		name: 'something that is not a definition at all',
		build: () => 'a study',
		issues: [['', 'must be an object']]
	}
];

describe('broken definitions', () => {
	test('the catalogue covers at least 25 cases', () => {
		expect(BROKEN.length).toBeGreaterThanOrEqual(25);
	});

	test.each(BROKEN.map((entry) => [entry.name, entry] as const))('%s', (_name, entry) => {
		const result = validateStudy(entry.build(), entry.context ?? CONTEXT);
		if (result.ok) throw new Error('expected the definition to be refused');
		expect(result.issues.map((issue) => issue.path).sort()).toEqual(
			entry.issues.map(([path]) => path).sort()
		);
		for (const [path, fragment] of entry.issues) {
			const messages = result.issues
				.filter((issue) => issue.path === path)
				.map((issue) => issue.message);
			expect(messages.some((message) => message.includes(fragment))).toBe(true);
		}
	});

	test('shape messages drop valibot’s “Invalid type: Expected … but received …”', () => {
		for (const entry of BROKEN) {
			const result = validateStudy(entry.build(), entry.context ?? CONTEXT);
			for (const issue of result.ok ? [] : result.issues) {
				expect(issue.message).not.toMatch(/Invalid (type|key): Expected/);
			}
		}
	});
});

describe('every problem at once', () => {
	test('five publish problems give five issues', () => {
		const study = studyWith(
			makeStage('video', 'clip', (stage) => {
				if (stage.type === 'video') stage.content.mediaId = null;
			}),
			makeStage('wait', 'wait', (stage) => (stage.durationSeconds = null)),
			makeStage('conversation', 'talk', (stage) => {
				if (stage.type !== 'conversation') return;
				stage.content.audio = false;
				stage.content.video = false;
			})
		);
		study.settings.title = '';
		study.settings.session = {
			mode: 'matched',
			groupSize: 2,
			minGroupSize: 4,
			lobbyTimeoutSeconds: 300
		};
		const result = validateStudy(study, CONTEXT);
		if (result.ok) throw new Error('expected the definition to be refused');
		expect(result.issues.map((issue) => issue.path).sort()).toEqual([
			'settings.session.minGroupSize',
			'settings.title',
			'stages.0.content.mediaId',
			'stages.1.durationSeconds',
			'stages.2.content.audio'
		]);
	});

	test('five shape problems give five issues', () => {
		const study = loose(createBlankStudy());
		delete study.settings.description;
		study.settings.prolific = 'yes';
		study.settings.language = 'English';
		study.stages[0].durationSeconds = -1;
		study.stages[1].content.outcome = 'finished';
		const result = parseStudyDefinition(study);
		if (result.ok) throw new Error('expected the definition to be refused');
		expect(result.issues).toEqual([
			{ path: 'settings.description', message: 'description is missing.' },
			{ path: 'settings.language', message: 'must be a language tag like en or de-CH' },
			{ path: 'settings.prolific', message: 'must be true or false' },
			{ path: 'stages.0.durationSeconds', message: 'must be at least 1 s' },
			{
				path: 'stages.1.content.outcome',
				message: expect.stringContaining('must be one of "completed", "no_consent"')
			}
		]);
	});
});
