import { startBot, type BotOptions, type BotResult, type RunningBot } from './bot';
import type { BotTarget } from './link-client';

/**
 * Several bots run together: started at once, stopped at once, and awaited together. Each
 * bot gets its own seed (`seed + index`), so one fleet's run can be replayed.
 */
export class BotFleet {
	readonly #bots: RunningBot[] = [];

	/** Starts one bot per entry of `tokens` (null: an ordinary participant via Start). */
	start(
		target: BotTarget,
		slug: string,
		options: Omit<BotOptions, 'token'>,
		tokens: readonly (string | null)[]
	): void {
		tokens.forEach((token, index) => {
			this.#bots.push(startBot(target, slug, { ...options, seed: options.seed + index, token }));
		});
	}

	/** How many bots this fleet has started. */
	get size(): number {
		return this.#bots.length;
	}

	/** Every bot's result, once all have ended (in the order they were started). */
	settle(): Promise<BotResult[]> {
		return Promise.all(this.#bots.map((bot) => bot.result));
	}

	/** Stops every bot (each closes its socket) and waits until all have ended. */
	async stop(): Promise<BotResult[]> {
		for (const bot of this.#bots) bot.stop();
		return this.settle();
	}
}
