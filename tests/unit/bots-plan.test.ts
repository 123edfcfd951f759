import { describe, expect, test } from 'bun:test';
import { findPluralityChoice, planStageAction } from '../../src/lib/server/bots/plan';
import type { MemberView } from '../../src/lib/room/study/view';
import { createStage, type Stage, type StageType } from '../../src/lib/study';
import { createRandom } from '../../src/lib/study/answers-sample';

/**
 * What a bot does with its view of the room: it answers stages that wait for everyone, never
 * ends a stage early for the group, agrees on group choices that need consensus, and does
 * nothing once paused or finished.
 */

function viewOf(stage: Stage, overrides: Partial<MemberView> = {}): MemberView {
	return {
		stage,
		stageIndex: 1,
		stageCount: 3,
		stageStartedAt: 0,
		deadline: null,
		timerBlock: null,
		paused: null,
		progress: { submitted: 0, of: 2 },
		youSubmitted: false,
		yourChoice: null,
		choices: null,
		outcome: null,
		completion: null,
		finished: false,
		...overrides
	};
}

function stageOf(type: StageType, overrides: Partial<Stage> = {}): Stage {
	return { ...createStage(type, []), ...overrides } as Stage;
}

const plan = (view: MemberView, chatted: string[] = [], chat = true) =>
	planStageAction(
		view,
		{ chatted: new Set(chatted) },
		{ chat, random: createRandom(1), rtMs: 500 }
	);

describe('planStageAction', () => {
	test('answers a questionnaire and a consent that wait for everyone', () => {
		const questionnaire = stageOf('questionnaire');
		const action = plan(viewOf(questionnaire));
		expect(action).toMatchObject({ kind: 'submit', stageId: questionnaire.id });
		if (action.kind === 'submit') expect(action.response).toMatchObject({ rtMs: 500 });
		expect(plan(viewOf(stageOf('consent')))).toMatchObject({
			kind: 'submit',
			response: { type: 'consent', agreed: true }
		});
	});

	test('a video stage: reports buffered at once (no player to wait for), then answers', () => {
		const video = stageOf('video');
		const playback = {
			schedule: null,
			buffered: 0,
			of: 2,
			youBuffered: false,
			bufferDeadline: 30_000,
			canControl: false
		};
		expect(plan(viewOf(video, { playback }))).toEqual({ kind: 'buffered', stageId: video.id });
		expect(plan(viewOf(video, { playback: { ...playback, youBuffered: true } }))).toMatchObject({
			kind: 'submit',
			stageId: video.id
		});
	});

	test('does nothing once submitted, paused, finished, at the end or with an outcome', () => {
		const stage = stageOf('instructions');
		expect(plan(viewOf(stage, { youSubmitted: true })).kind).toBe('none');
		const paused = { since: 0, resumeDeadline: 5, reason: 'dropout' as const, missingCount: 1 };
		expect(plan(viewOf(stage, { paused })).kind).toBe('none');
		expect(plan(viewOf(stage, { finished: true })).kind).toBe('none');
		expect(plan(viewOf(stage, { outcome: 'dropout' })).kind).toBe('none');
		expect(plan(viewOf(stageOf('end'))).kind).toBe('none');
	});

	test('never ends a stage for the group: timer, experimenter and timed "first" stages run on', () => {
		for (const advance of ['timer', 'experimenter'] as const) {
			expect(plan(viewOf(stageOf('wait', { advance, durationSeconds: 30 }))).kind).toBe('none');
		}
		expect(
			plan(viewOf(stageOf('instructions', { advance: 'first', durationSeconds: 60 }))).kind
		).toBe('none');
		// Without a time limit nobody else would end it.
		expect(
			plan(viewOf(stageOf('instructions', { advance: 'first', durationSeconds: null }))).kind
		).toBe('submit');
	});

	test('chats once on a chat stage when asked to, then leaves the timed chat to run', () => {
		const chat = stageOf('chat');
		expect(plan(viewOf(chat))).toMatchObject({ kind: 'chat', stageId: chat.id });
		expect(plan(viewOf(chat), [chat.id]).kind).toBe('none');
		expect(plan(viewOf(chat), [], false).kind).toBe('none');
	});

	test('picks an option of the group choice, and moves to the most picked one for consensus', () => {
		const free = stageOf('group_choice');
		const first = plan(viewOf(free));
		expect(first.kind).toBe('pick');
		if (first.kind === 'pick') expect(['a', 'b']).toContain(first.option);
		expect(plan(viewOf(free, { yourChoice: 'a', choices: { me: 'a', x: 'b', y: 'b' } })).kind).toBe(
			'none'
		);

		const consensus = stageOf('group_choice');
		if (consensus.type === 'group_choice') consensus.content.consensusRequired = true;
		expect(
			plan(viewOf(consensus, { yourChoice: 'a', choices: { me: 'a', x: 'b', y: 'b' } }))
		).toEqual({ kind: 'pick', stageId: consensus.id, option: 'b' });
		expect(plan(viewOf(consensus, { yourChoice: null, choices: { x: 'b' } }))).toEqual({
			kind: 'pick',
			stageId: consensus.id,
			option: 'b'
		});
		expect(plan(viewOf(consensus, { yourChoice: 'b', choices: { me: 'b', x: 'b' } })).kind).toBe(
			'none'
		);
	});
});

describe('findPluralityChoice', () => {
	test('the most picked option; a tie goes to the smallest value, so bots converge', () => {
		expect(findPluralityChoice({})).toBeNull();
		expect(findPluralityChoice({ a: 'x', b: 'y', c: 'y' })).toBe('y');
		expect(findPluralityChoice({ a: 'b', b: 'a' })).toBe('a');
		expect(findPluralityChoice({ a: 'a', b: 'b' })).toBe('a');
	});
});
