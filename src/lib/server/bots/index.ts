/** Simulated participants: real clients of the study link, for pilots, tests and benchmarks. */
export { startBot, type BotOptions, type BotResult, type RunningBot } from './bot';
export { BotFleet } from './fleet';
export type { BotTarget } from './link-client';
export { createBotParticipants } from './participants';
export {
	MAX_BOTS_PER_REQUEST,
	StartBotsRequestSchema,
	findLocalTarget,
	startPilotBots,
	type StartBotsRequest,
	type StartBotsResult
} from './pilot';
export { listStudyBots, type BotSummary } from './summary';
