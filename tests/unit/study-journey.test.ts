import { describe, expect, test } from 'bun:test';
import {
	createBlankStudy,
	createStage,
	findRoomStartIndex,
	listPreRoomStages
} from '../../src/lib/study';
import { STUDY_TEMPLATES } from '../../src/lib/study/templates';

describe('pre-room stages', () => {
	test('leading consent and self-paced instructions or questionnaires run alone', () => {
		const study = createBlankStudy();
		study.stages = [
			createStage('consent', []),
			createStage('instructions', ['consent']),
			createStage('video', []),
			createStage('questionnaire', []),
			createStage('end', [])
		];
		expect(findRoomStartIndex(study)).toBe(2);
		expect(listPreRoomStages(study).map((stage) => stage.type)).toEqual([
			'consent',
			'instructions'
		]);
	});

	test('a timed instructions stage is a group phase; only individual stages: the last is the room', () => {
		const timed = createBlankStudy();
		timed.stages = [createStage('consent', []), createStage('instructions', [])];
		timed.stages[1]!.advance = 'timer';
		expect(findRoomStartIndex(timed)).toBe(1);

		const study = createBlankStudy();
		study.stages = [createStage('consent', []), createStage('questionnaire', [])];
		expect(findRoomStartIndex(study)).toBe(1);
	});

	test('the templates start their rooms where the group work begins', () => {
		const starts = Object.fromEntries(
			STUDY_TEMPLATES.map((template) => {
				const study = template.create({ demoMediaId: 'demo' });
				return [template.id, study.stages[findRoomStartIndex(study)]!.type];
			})
		);
		// Consent and self-paced instructions run alone; timed instructions are a group phase.
		expect(starts).toEqual({
			'hyperscanning-video': 'video',
			'focus-room': 'instructions',
			'watch-party': 'instructions',
			'group-coherence': 'instructions'
		});
	});
});
