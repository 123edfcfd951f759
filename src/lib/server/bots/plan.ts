import type { MemberView } from '$lib/room/study/view';
import type { StageResponse } from '$lib/study';
import { sampleStageResponse, type Random } from '$lib/study/answers-sample';

/**
 * What a bot does with the room's view of it: pure, so the behaviour is tested without a
 * server. The session calls it whenever the view changes and again when the think time is
 * over (the room may have moved on meanwhile).
 */
export type BotAction =
	| { kind: 'none' }
	| { kind: 'submit'; stageId: string; response: StageResponse }
	| { kind: 'pick'; stageId: string; option: string }
	| { kind: 'chat'; stageId: string; text: string }
	/** A video stage: a bot has no player, so it is "buffered" at once and never holds the start. */
	| { kind: 'buffered'; stageId: string };

export type BotMemory = {
	/** Stage ids the bot already chatted on (one message each is enough for a pilot). */
	chatted: ReadonlySet<string>;
};

export type PlanOptions = { chat: boolean; random: Random; rtMs: number };

const CHAT_LINES = [
	'Hi everyone!',
	'Hello, I am a bot filling a seat.',
	'Sounds good to me.',
	'I agree.',
	'Interesting, tell me more.'
];

/**
 * The most picked option, ties going to the smallest value, so bots that must agree
 * converge instead of swapping choices with each other forever.
 */
export function findPluralityChoice(choices: Readonly<Record<string, string>>): string | null {
	const counts = new Map<string, number>();
	for (const option of Object.values(choices)) counts.set(option, (counts.get(option) ?? 0) + 1);
	let best: string | null = null;
	let bestCount = 0;
	for (const [option, count] of counts) {
		if (count > bestCount || (count === bestCount && best !== null && option < best)) {
			best = option;
			bestCount = count;
		}
	}
	return best;
}

/**
 * The bot's next action on the current stage, or `none`. Bots answer stages that wait for
 * everyone's submission; they never end a stage for the group early: stages advanced by the
 * timer or the experimenter, and `first` stages with a time limit, are left to run their
 * course (a `first` stage without a limit would otherwise never end).
 */
export function planStageAction(
	view: MemberView,
	memory: BotMemory,
	options: PlanOptions
): BotAction {
	const stage = view.stage;
	if (!stage || view.finished || view.outcome !== null || view.paused) return { kind: 'none' };
	if (stage.type === 'video' && view.playback && !view.playback.youBuffered) {
		return { kind: 'buffered', stageId: stage.id };
	}
	if (stage.type === 'group_choice') {
		const values = stage.content.options.map((option) => option.value);
		if (values.length === 0) return { kind: 'none' };
		const agreed =
			stage.content.consensusRequired && view.choices ? findPluralityChoice(view.choices) : null;
		if (view.yourChoice === null) {
			const sampled = sampleStageResponse(stage, options.random);
			const option =
				agreed && values.includes(agreed)
					? agreed
					: sampled.type === 'group_choice'
						? sampled.option
						: values[0]!;
			return { kind: 'pick', stageId: stage.id, option };
		}
		if (agreed && agreed !== view.yourChoice && values.includes(agreed)) {
			return { kind: 'pick', stageId: stage.id, option: agreed };
		}
		return { kind: 'none' };
	}
	if (stage.type === 'chat' && options.chat && !memory.chatted.has(stage.id)) {
		const line = CHAT_LINES[Math.floor(options.random() * CHAT_LINES.length)]!;
		return {
			kind: 'chat',
			stageId: stage.id,
			text: line.slice(0, Math.max(1, stage.content.maxMessageLength))
		};
	}
	if (view.youSubmitted || stage.type === 'end') return { kind: 'none' };
	if (stage.advance === 'timer' || stage.advance === 'experimenter') return { kind: 'none' };
	if (stage.advance === 'first' && stage.durationSeconds !== null) return { kind: 'none' };
	return {
		kind: 'submit',
		stageId: stage.id,
		response: sampleStageResponse(stage, options.random, options.rtMs)
	};
}
