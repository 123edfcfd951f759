import { describe, expect, test } from 'bun:test';
import * as fc from 'fast-check';
import * as v from 'valibot';
import {
	StageSchema,
	createStage,
	matchVariant,
	resolveStageContent,
	type StageOf
} from '../../src/lib/study';

/** An instructions stage whose variants are told apart by their text. */
function instructionsWith(
	variants: { roles: string[]; conditions: string[]; text: string }[]
): StageOf<'instructions'> {
	const stage = createStage('instructions', []) as StageOf<'instructions'>;
	stage.content.markdown = 'base';
	stage.variants = variants.map(({ roles, conditions, text }) => ({
		when: { roles, conditions },
		content: { markdown: text, continueLabel: 'Next' }
	}));
	return stage;
}

const member = (role: string | null, condition: string | null) => ({ role, condition });

describe('resolveStageContent', () => {
	test('keeps the content when the stage has no variants', () => {
		const stage = instructionsWith([]);
		const resolved = resolveStageContent(stage, member('speaker', 'control'));
		expect(resolved.content).toEqual(stage.content);
		expect(resolved.variants).toEqual([]);
	});

	test('a role-only variant applies to that role in every condition', () => {
		const stage = instructionsWith([{ roles: ['speaker'], conditions: [], text: 'speaker' }]);
		expect(resolveStageContent(stage, member('speaker', 'a')).content.markdown).toBe('speaker');
		expect(resolveStageContent(stage, member('speaker', null)).content.markdown).toBe('speaker');
		expect(resolveStageContent(stage, member('listener', 'a')).content.markdown).toBe('base');
	});

	test('a condition-only variant applies to that condition whatever the role', () => {
		const stage = instructionsWith([{ roles: [], conditions: ['treatment'], text: 'treated' }]);
		expect(resolveStageContent(stage, member(null, 'treatment')).content.markdown).toBe('treated');
		expect(resolveStageContent(stage, member('x', 'control')).content.markdown).toBe('base');
		expect(resolveStageContent(stage, member('x', null)).content.markdown).toBe('base');
	});

	test('roles and conditions must both match', () => {
		const stage = instructionsWith([
			{ roles: ['speaker', 'chair'], conditions: ['treatment'], text: 'both' }
		]);
		expect(resolveStageContent(stage, member('chair', 'treatment')).content.markdown).toBe('both');
		expect(resolveStageContent(stage, member('chair', 'control')).content.markdown).toBe('base');
		expect(resolveStageContent(stage, member('listener', 'treatment')).content.markdown).toBe(
			'base'
		);
		expect(resolveStageContent(stage, member(null, 'treatment')).content.markdown).toBe('base');
	});

	test('the first matching variant wins', () => {
		const stage = instructionsWith([
			{ roles: ['listener'], conditions: [], text: 'listener' },
			{ roles: [], conditions: ['treatment'], text: 'treatment' },
			{ roles: ['speaker'], conditions: ['treatment'], text: 'speaker in treatment' }
		]);
		expect(resolveStageContent(stage, member('speaker', 'treatment')).content.markdown).toBe(
			'treatment'
		);
		expect(resolveStageContent(stage, member('listener', 'treatment')).content.markdown).toBe(
			'listener'
		);
	});

	test('a variant naming neither roles nor conditions never matches', () => {
		const stage = instructionsWith([
			{ roles: [], conditions: [], text: 'everyone?' },
			{ roles: ['speaker'], conditions: [], text: 'speaker' }
		]);
		expect(resolveStageContent(stage, member('speaker', 'a')).content.markdown).toBe('speaker');
		expect(resolveStageContent(stage, member('listener', 'a')).content.markdown).toBe('base');
		expect(resolveStageContent(stage, member(null, null)).content.markdown).toBe('base');
		expect(matchVariant({ roles: [], conditions: [] }, member('speaker', 'a'))).toBe(false);
	});

	test('keeps everything but the content and variants, and leaves the input alone', () => {
		const stage = instructionsWith([{ roles: ['speaker'], conditions: [], text: 'speaker' }]);
		stage.durationSeconds = 90;
		stage.advance = 'timer';
		const before = structuredClone(stage);
		const resolved = resolveStageContent(stage, member('speaker', null));
		expect(stage).toEqual(before);
		expect(resolved).toEqual({
			...before,
			content: { markdown: 'speaker', continueLabel: 'Next' },
			variants: []
		});
		expect(v.is(StageSchema, resolved)).toBe(true);
	});

	test('works for every stage type (content shapes differ)', () => {
		const stage = createStage('questionnaire', []) as StageOf<'questionnaire'>;
		const variantContent = { items: [], randomizeOrder: true };
		stage.variants = [{ when: { roles: [], conditions: ['short'] }, content: variantContent }];
		const resolved = resolveStageContent(stage, member(null, 'short'));
		expect(resolved.type).toBe('questionnaire');
		expect(resolved.content).toEqual(variantContent);
	});

	test('property: the result is the first matching variant, or the base content', () => {
		const ids = fc.constantFrom('a', 'b', 'c');
		const when = fc.record({
			roles: fc.uniqueArray(ids, { maxLength: 3 }),
			conditions: fc.uniqueArray(ids, { maxLength: 3 })
		});
		fc.assert(
			fc.property(
				fc.array(when, { maxLength: 5 }),
				fc.option(ids),
				fc.option(ids),
				(whens, role, condition) => {
					const stage = instructionsWith(
						whens.map((item, index) => ({ ...item, text: `variant ${index}` }))
					);
					const resolved = resolveStageContent(stage, { role, condition });
					const expected = whens.findIndex(
						(item) =>
							(item.roles.length > 0 || item.conditions.length > 0) &&
							(item.roles.length === 0 || (role !== null && item.roles.includes(role))) &&
							(item.conditions.length === 0 ||
								(condition !== null && item.conditions.includes(condition)))
					);
					expect(resolved.content.markdown).toBe(expected === -1 ? 'base' : `variant ${expected}`);
					expect(resolved.variants).toEqual([]);
				}
			)
		);
	});
});
