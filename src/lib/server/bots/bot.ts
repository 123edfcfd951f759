import { createRandom, sampleStageResponse } from '$lib/study/answers-sample';
import { LinkClient, type BotTarget } from './link-client';
import { runRoomSession, type RoomEnd } from './room-session';
import { pause, pickThinkMs } from './timing';

export type BotOptions = {
	/** Seeds answers, think times and dropouts, so a run can be replayed. */
	seed: number;
	/** Think time before each answer, uniform in [min, max] ms. */
	thinkMs: readonly [number, number];
	/** Chance, per stage, that the bot leaves for good instead of answering (0–1). */
	dropoutProbability: number;
	/** Send a line on chat stages. */
	chat: boolean;
	/**
	 * The study cookie's token of a participant created for this bot server-side (see
	 * `createBotParticipants`); without one, Start creates an ordinary participant, which is
	 * only right for tests that script a "human".
	 */
	token?: string | null;
	/** Open mode: join the room with this invite code instead of starting one. */
	inviteCode?: string;
	/** The bot gives up after this long whatever happens (default 30 minutes). */
	lifetimeMs?: number;
};

/** How a bot ended. `participantId` and `roomId` are known once it joined its room. */
export type BotResult = RoomEnd;

export type RunningBot = { result: Promise<BotResult>; stop: () => void };

const DEFAULT_LIFETIME_MS = 30 * 60_000;
// Bots beat faster than the page's 5 s: a pilot should not wait on them, and a beat is cheap.
const WAITING_BEAT_MS = 1_000;
// A refusal the bot cannot explain (a stage it answered wrongly, a form that failed) is tried
// again from the current step a few times, then the bot gives up rather than loop.
const MAX_REFUSALS = 5;

/**
 * Starts a simulated participant on the study link `/s/<slug>` of the server at `target`. It
 * is a real client: it posts Start, answers the pre-room stages through the page's actions,
 * passes the ready check, beats in the waiting room, and once placed plays the room over its
 * participant socket until its outcome. Stop it with `stop()`; it stops by itself after its
 * lifetime.
 */
export function startBot(target: BotTarget, slug: string, options: BotOptions): RunningBot {
	const controller = new AbortController();
	const lifetime = setTimeout(() => controller.abort(), options.lifetimeMs ?? DEFAULT_LIFETIME_MS);
	const result = runBot(target, slug, options, controller.signal)
		.catch((error: unknown): BotResult => {
			if (controller.signal.aborted) return { kind: 'stopped' };
			return { kind: 'failed', reason: error instanceof Error ? error.message : String(error) };
		})
		.finally(() => clearTimeout(lifetime));
	return { result, stop: () => controller.abort() };
}

async function runBot(
	target: BotTarget,
	slug: string,
	options: BotOptions,
	signal: AbortSignal
): Promise<BotResult> {
	const random = createRandom(options.seed);
	const client = new LinkClient(target, slug, options.token ?? null, signal);
	const started = await client.start();
	if (!started.ok) return { kind: 'failed', reason: started.reason };
	let refusals = 0;
	const refused = (what: string): BotResult | null =>
		++refusals > MAX_REFUSALS ? { kind: 'failed', reason: what } : null;

	while (!signal.aborted) {
		const step = await client.readStep();
		if (!step) return { kind: 'failed', reason: 'no_step' };
		switch (step.kind) {
			case 'outcome':
				return { kind: 'outcome', outcome: step.outcome, participantId: null, roomId: null };
			case 'stage': {
				const thinkMs = pickThinkMs(random, options.thinkMs);
				if (!(await pause(thinkMs, signal))) return { kind: 'stopped' };
				if (random() < options.dropoutProbability)
					return { kind: 'dropped', participantId: null, roomId: null };
				const response = sampleStageResponse(step.stage, random, thinkMs);
				const answered = await client.respond(step.stage.id, response);
				if (answered.type !== 'success') {
					const failure = refused(`respond_${String(answered.data?.reason ?? answered.status)}`);
					if (failure) return failure;
				}
				break;
			}
			case 'ready': {
				const action =
					step.mode !== 'open' ? 'ready' : options.inviteCode !== undefined ? 'join' : 'create';
				const fields: Record<string, string> =
					action === 'join' ? { code: options.inviteCode ?? '' } : {};
				const entered = await client.act(action, fields);
				if (entered.type !== 'success') {
					const failure = refused(`${action}_${String(entered.data?.reason ?? entered.status)}`);
					if (failure) return failure;
					if (!(await pause(WAITING_BEAT_MS, signal))) return { kind: 'stopped' };
				}
				break;
			}
			case 'waiting': {
				const status = await client.beat();
				if (status !== 'in_room' && !(await pause(WAITING_BEAT_MS, signal))) {
					return { kind: 'stopped' };
				}
				break;
			}
			case 'in_room': {
				if (!step.roomId) {
					if (!(await pause(WAITING_BEAT_MS, signal))) return { kind: 'stopped' };
					break;
				}
				return runRoomSession(client, step.roomId, {
					random,
					thinkMs: options.thinkMs,
					dropoutProbability: options.dropoutProbability,
					chat: options.chat,
					signal
				});
			}
		}
	}
	return { kind: 'stopped' };
}
