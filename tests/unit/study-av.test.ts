import { describe, expect, test } from 'bun:test';
import {
	STAGE_TYPES,
	conversationGrantsFor,
	createStage,
	resolveStageContent,
	type Stage,
	type StageOf
} from '../../src/lib/study';

/** A conversation stage with `content` laid over the designer's defaults. */
function conversation(content: Partial<StageOf<'conversation'>['content']> = {}) {
	const stage = createStage('conversation', []) as StageOf<'conversation'>;
	stage.content = { ...stage.content, ...content };
	return stage;
}

const nothing = {
	canPublish: false,
	canPublishSources: [],
	canSubscribe: false,
	canPublishData: false
};

describe('conversationGrantsFor', () => {
	test('a speaker on an audio+video conversation publishes microphone and camera', () => {
		expect(conversationGrantsFor(conversation(), 'participant')).toEqual({
			canPublish: true,
			canPublishSources: ['microphone', 'camera'],
			canSubscribe: true,
			canPublishData: false
		});
	});

	test('only the kinds the stage enables are published', () => {
		const audioOnly = conversationGrantsFor(conversation({ video: false }), 'participant');
		expect(audioOnly.canPublishSources).toEqual(['microphone']);
		expect(audioOnly.canPublish).toBe(true);
		const videoOnly = conversationGrantsFor(conversation({ audio: false }), 'participant');
		expect(videoOnly.canPublishSources).toEqual(['camera']);
	});

	test('a listener role subscribes only, whatever the stage enables', () => {
		const stage = conversation({ listenerRoles: ['audience'] });
		expect(conversationGrantsFor(stage, 'audience')).toEqual({
			canPublish: false,
			canPublishSources: [],
			canSubscribe: true,
			canPublishData: false
		});
		expect(conversationGrantsFor(stage, 'speaker').canPublishSources).toEqual([
			'microphone',
			'camera'
		]);
	});

	test('a member without a role is not a listener (listeners are named by role)', () => {
		const stage = conversation({ listenerRoles: ['audience'] });
		expect(conversationGrantsFor(stage, null).canPublish).toBe(true);
	});

	test('a stage that enables nothing publishes nothing but still subscribes', () => {
		const grants = conversationGrantsFor(conversation({ audio: false, video: false }), 'p');
		expect(grants).toEqual({ ...nothing, canSubscribe: true });
	});

	test('every other stage type grants nothing', () => {
		for (const type of STAGE_TYPES.filter((t) => t !== 'conversation')) {
			const stage: Stage = createStage(type, []);
			expect({ type, grants: conversationGrantsFor(stage, 'participant') }).toEqual({
				type,
				grants: nothing
			});
		}
	});

	test('a variant resolved for the member decides (e.g. one role listens in one condition)', () => {
		const stage = conversation();
		stage.variants = [
			{
				when: { roles: ['b'], conditions: ['muted'] },
				content: { ...stage.content, listenerRoles: ['b'] }
			}
		];
		const forB = resolveStageContent(stage, { role: 'b', condition: 'muted' });
		expect(conversationGrantsFor(forB, 'b').canPublish).toBe(false);
		const forBElsewhere = resolveStageContent(stage, { role: 'b', condition: 'control' });
		expect(conversationGrantsFor(forBElsewhere, 'b').canPublish).toBe(true);
	});

	test('the result is fresh each time (callers may change it)', () => {
		const a = conversationGrantsFor(createStage('chat', []), 'p');
		a.canPublishSources.push('camera');
		expect(conversationGrantsFor(createStage('chat', []), 'p').canPublishSources).toEqual([]);
	});
});
