import { describe, expect, test } from 'bun:test';
import {
	STUDY_TEMPLATES,
	findStudyTemplate,
	validateStudy,
	type Stage,
	type StageOf,
	type StageType,
	type StudyDefinition
} from '../../src/lib/study';

const DEMO_MEDIA = 'media_demo';
const WITH_EVERYTHING = {
	livekitConfigured: true,
	media: new Map([[DEMO_MEDIA, { kind: 'video' as const }]])
};

function create(id: string, demoMediaId: string | null = DEMO_MEDIA): StudyDefinition {
	const template = findStudyTemplate(id);
	if (!template) throw new Error(`no template ${id}`);
	return template.create({ demoMediaId });
}

function stageOf<T extends StageType>(study: StudyDefinition, type: T): StageOf<T> {
	const stage = study.stages.find((candidate): candidate is StageOf<T> => candidate.type === type);
	if (!stage) throw new Error(`no ${type} stage`);
	return stage;
}

const types = (study: StudyDefinition) => study.stages.map((stage: Stage) => stage.type);

describe('the catalogue', () => {
	test('ids are unique and findStudyTemplate finds each', () => {
		const ids = STUDY_TEMPLATES.map((template) => template.id);
		expect(new Set(ids).size).toBe(ids.length);
		for (const id of ids) expect(findStudyTemplate(id)?.id).toBe(id);
		expect(findStudyTemplate('no-such-template')).toBeUndefined();
	});

	test.each(STUDY_TEMPLATES.map((template) => [template.id, template] as const))(
		'%s says truthfully what it needs',
		(_id, template) => {
			const withoutLivekit = validateStudy(template.create({ demoMediaId: DEMO_MEDIA }), {
				...WITH_EVERYTHING,
				livekitConfigured: false
			});
			expect(withoutLivekit.ok).toBe(!template.needs.livekit);

			const withoutMedia = validateStudy(template.create({ demoMediaId: null }), {
				livekitConfigured: true,
				media: new Map()
			});
			expect(withoutMedia.ok).toBe(!template.needs.media);
		}
	);

	test.each(STUDY_TEMPLATES.map((template) => [template.id, template] as const))(
		'%s gives a fresh definition each time',
		(_id, template) => {
			const first = template.create({ demoMediaId: DEMO_MEDIA });
			const second = template.create({ demoMediaId: DEMO_MEDIA });
			expect(second).toEqual(first);
			first.stages[0]!.dropout = { policy: 'end' };
			first.settings.conditions.list[0]!.name = 'Changed';
			expect(second).not.toEqual(first);
			expect(template.create({ demoMediaId: DEMO_MEDIA })).toEqual(second);
		}
	);

	test.each(STUDY_TEMPLATES.map((template) => [template.id, template] as const))(
		'%s has participant-facing text on every text stage',
		(_id, template) => {
			for (const stage of template.create({ demoMediaId: DEMO_MEDIA }).stages) {
				if ('markdown' in stage.content) expect(stage.content.markdown.trim()).not.toBe('');
			}
		}
	);
});

describe('hyperscanning-video', () => {
	const study = create('hyperscanning-video');

	test('pairs, recruited from Prolific', () => {
		expect(study.settings.session).toEqual({
			mode: 'matched',
			groupSize: 2,
			minGroupSize: 2,
			lobbyTimeoutSeconds: 600
		});
		expect(study.settings.prolific).toBe(true);
	});

	test('consent, instructions, a rated video, a questionnaire, the end', () => {
		expect(types(study)).toEqual(['consent', 'instructions', 'video', 'questionnaire', 'end']);
		const video = stageOf(study, 'video');
		expect(video.content.mediaId).toBe(DEMO_MEDIA);
		expect(video.content.continuousRating).toMatchObject({
			label: 'How engaging is this moment?',
			min: 0,
			max: 100,
			sampleRateHz: 10
		});
		const kinds = stageOf(study, 'questionnaire').content.items.map((item) => item.kind);
		expect(kinds).toEqual(expect.arrayContaining(['likert', 'choice', 'long_text']));
	});

	test('the consent text has the usual sections', () => {
		const consent = stageOf(study, 'consent').content.markdown;
		for (const section of ['What you will do', 'Risks', 'Payment', 'Your data', 'voluntary'])
			expect(consent).toContain(section);
	});
});

describe('focus-room', () => {
	const study = create('focus-room');

	test('open rooms of eight that participants start', () => {
		expect(study.settings.session).toEqual({
			mode: 'open',
			capacity: 8,
			participantsCreateRooms: true
		});
	});

	test('four rounds of 25 minutes focus and 5 minutes break, with a goal, then a chat', () => {
		expect(types(study)).toEqual(['instructions', 'timer', 'chat', 'end']);
		const timer = stageOf(study, 'timer');
		expect(timer.content.blocks.map(({ kind, seconds }) => [kind, seconds])).toEqual([
			['focus', 1500],
			['break', 300]
		]);
		expect(timer.content.repeat).toBe(4);
		expect(timer.content.goalPrompt).toBe('What will you work on?');
		expect(timer.advance).toBe('timer');
		expect(timer.durationSeconds).toBe(4 * (1500 + 300));
	});
});

describe('watch-party', () => {
	const study = create('watch-party');

	test('open rooms of six, a host and guests', () => {
		expect(study.settings.session).toEqual({
			mode: 'open',
			capacity: 6,
			participantsCreateRooms: true
		});
		expect(study.settings.roles.map((role) => [role.id, role.minCount, role.maxCount])).toEqual([
			['host', 1, 1],
			['guest', 0, null]
		]);
	});

	test('the host controls the video; chat and a conversation follow', () => {
		expect(types(study)).toEqual(['instructions', 'video', 'chat', 'conversation', 'end']);
		expect(stageOf(study, 'video').content.controlRoles).toEqual(['host']);
		expect(stageOf(study, 'conversation').content).toMatchObject({ audio: true, video: true });
	});
});

describe('group-coherence', () => {
	const study = create('group-coherence');

	test('cohorts of two to eight every 15 minutes', () => {
		expect(study.settings.session).toMatchObject({
			mode: 'scheduled',
			intervalMinutes: 15,
			minCohortSize: 2,
			maxCohortSize: 8
		});
	});

	test('30 s preparation, 750 s coherence from hrv, 120 s integration, all on the timer', () => {
		const timed = study.stages.filter((stage) => stage.type !== 'end');
		expect(timed.map((stage) => [stage.type, stage.durationSeconds, stage.advance])).toEqual([
			['instructions', 30, 'timer'],
			['group_metric', 750, 'timer'],
			['instructions', 120, 'timer']
		]);
		expect(stageOf(study, 'group_metric').content).toMatchObject({
			metric: 'coherence',
			signal: 'hrv'
		});
		expect(types(study).at(-1)).toBe('end');
	});

	test('a session fits its 15-minute slot', () => {
		const seconds = study.stages.reduce((sum, stage) => sum + (stage.durationSeconds ?? 0), 0);
		expect(seconds).toBeLessThanOrEqual(15 * 60);
	});
});
