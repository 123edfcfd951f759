import { authorizeApi } from '$lib/server/auth/guards';
import { listStudyBots, startPilotBots, StartBotsRequestSchema } from '$lib/server/bots';
import { getDatabase } from '$lib/server/db';
import { readJsonBody } from '$lib/server/http/json-body';
import { problem, problemResponse } from '$lib/server/http/problem';
import { respondStudyFailure } from '$lib/server/studies';
import type { RequestHandler } from './$types';

/** The study's bots: status, outcome and answered stages of each. */
export const GET: RequestHandler = async ({ locals, params }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const result = await listStudyBots(await getDatabase(), auth.user, params.id);
	if (!result.ok) return respondStudyFailure(result);
	return Response.json({ bots: result.bots, running: result.running });
};

/**
 * Starts bots on the live study in this server process: `{count, thinkMs?,
 * dropoutProbability?, chat?, seed?}`. 202: they are on their way (follow them with GET).
 */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	const auth = authorizeApi(locals);
	if (!auth.ok) return problemResponse(auth.problem);
	const body = await readJsonBody(request, StartBotsRequestSchema);
	if (!body.ok) return problemResponse(body.problem);
	const result = await startPilotBots(await getDatabase(), auth.user, params.id, body.data);
	if (!result.ok) {
		if (result.reason === 'not_live') {
			return problemResponse(
				problem(409, 'not_live', 'Bots can only join a live study. Publish it first.')
			);
		}
		if (result.reason === 'too_many') {
			return problemResponse(
				problem(429, 'too_many_bots', 'Too many bots are running. Try again when they finish.')
			);
		}
		return respondStudyFailure({ reason: result.reason });
	}
	return Response.json(
		{ participantIds: result.participantIds, seed: result.seed },
		{ status: 202 }
	);
};
