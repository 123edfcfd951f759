import * as v from 'valibot';
import type { SessionUser } from '../auth/sessions';
import { getEnv } from '../config/env';
import type { Database } from '../db';
import { log } from '../log';
import { canEditStudy, loadStudyForUser } from '../studies/access';
import type { BotResult } from './bot';
import { BotFleet } from './fleet';
import type { BotTarget } from './link-client';
import { createBotParticipants } from './participants';

/** Enough to fill every other seat of the largest group (64). */
export const MAX_BOTS_PER_REQUEST = 63;
// Bots are cheap but not free (a socket and a timer each); this bounds what one server
// process runs for pilots, whoever asks.
const MAX_RUNNING_BOTS = 256;
// A pilot is a walk-through, not a study: bots left behind by a closed tab end by themselves.
const PILOT_LIFETIME_MS = 60 * 60_000;

const ThinkMs = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(600_000));

/** `POST /api/studies/<id>/bots`: how many bots, and how they behave. */
export const StartBotsRequestSchema = v.object({
	count: v.pipe(
		v.number(),
		v.integer('count must be a whole number'),
		v.minValue(1, 'count must be at least 1'),
		v.maxValue(MAX_BOTS_PER_REQUEST, `count must be at most ${MAX_BOTS_PER_REQUEST}`)
	),
	/** Think time before each answer, [min, max] ms. */
	thinkMs: v.optional(v.tuple([ThinkMs, ThinkMs]), [800, 3000]),
	/** Chance per stage that a bot leaves for good. */
	dropoutProbability: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0),
	chat: v.optional(v.boolean(), true),
	/** Replays a run; random when absent. */
	seed: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2 ** 31)))
});
export type StartBotsRequest = v.InferOutput<typeof StartBotsRequestSchema>;

export type StartBotsResult =
	| { ok: true; participantIds: string[]; seed: number }
	| { ok: false; reason: 'not_found' | 'forbidden' | 'not_live' | 'too_many' };

let runningBots = 0;

/** How many pilot bots this process runs now. */
export function countRunningBots(): number {
	return runningBots;
}

/**
 * Where this process's bots connect: itself over loopback, so a pilot never leaves the
 * machine, with the public origin as `Origin` (the origin check accepts it).
 */
export function findLocalTarget(): BotTarget {
	const env = getEnv();
	const wildcard = ['0.0.0.0', '::', '[::]'].includes(env.host);
	const host = wildcard ? '127.0.0.1' : env.host.includes(':') ? `[${env.host}]` : env.host;
	return { url: `http://${host}:${env.port}`, origin: env.origin };
}

/**
 * "Pilot with bots": starts `count` bots in this server process on a live study, for someone
 * who may edit it. The bots are created as participants flagged `is_bot` before they start, so
 * they are in the data (and can be told apart) even if they fail on the way.
 */
export async function startPilotBots(
	db: Database,
	user: SessionUser,
	studyId: string,
	request: StartBotsRequest,
	target: BotTarget = findLocalTarget()
): Promise<StartBotsResult> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	if (!canEditStudy(found.access)) return { ok: false, reason: 'forbidden' };
	if (found.study.status !== 'live') return { ok: false, reason: 'not_live' };
	if (runningBots + request.count > MAX_RUNNING_BOTS) return { ok: false, reason: 'too_many' };

	const created = await createBotParticipants(db, found.study.slug, request.count, new Date());
	if (!created.ok) return { ok: false, reason: 'not_live' };
	const seed = request.seed ?? Math.floor(Math.random() * 2 ** 31);
	const fleet = new BotFleet();
	fleet.start(
		target,
		found.study.slug,
		{
			seed,
			thinkMs: request.thinkMs,
			dropoutProbability: request.dropoutProbability,
			chat: request.chat,
			lifetimeMs: PILOT_LIFETIME_MS
		},
		created.bots.map((bot) => bot.token)
	);
	runningBots += fleet.size;
	void fleet.settle().then((results) => {
		runningBots -= fleet.size;
		reportFailures(studyId, results);
	});
	return { ok: true, participantIds: created.bots.map((bot) => bot.participantId), seed };
}

/** Bots that failed are logged (they are pilots: nobody else would notice). */
function reportFailures(studyId: string, results: BotResult[]): void {
	const failures = results.filter((result) => result.kind === 'failed');
	if (failures.length === 0) return;
	log.warn('bots.failed', {
		studyId,
		count: failures.length,
		reasons: failures.map((failure) => (failure.kind === 'failed' ? failure.reason : '')).join(',')
	});
}
