import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Outcome } from '$lib/study';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { participants, stageResponses, type Participant } from '../db/schema';
import { loadStudyForUser } from '../studies/access';
import { countRunningBots } from './pilot';

export type BotSummary = {
	participantId: string;
	status: Participant['status'];
	outcome: Outcome | null;
	roomId: string | null;
	/** Stage ids with a stored response, in stage order (one entry per stored row). */
	answered: string[];
};

export type ListBotsResult =
	{ ok: true; bots: BotSummary[]; running: number } | { ok: false; reason: 'not_found' };

/**
 * The bots of a study as the data holds them (anyone who can see the study): where each is
 * and what it answered, so a pilot can be followed and checked without an export.
 */
export async function listStudyBots(
	db: Database,
	user: SessionUser,
	studyId: string
): Promise<ListBotsResult> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	const rows = await db
		.select({
			id: participants.id,
			status: participants.status,
			outcome: participants.outcome,
			roomId: participants.roomId
		})
		.from(participants)
		.where(and(eq(participants.studyId, studyId), eq(participants.isBot, true)))
		.orderBy(asc(participants.createdAt), asc(participants.id));
	const ids = rows.map((row) => row.id);
	const responses =
		ids.length === 0
			? []
			: await db
					.select({ participantId: stageResponses.participantId, stageId: stageResponses.stageId })
					.from(stageResponses)
					.where(
						and(inArray(stageResponses.participantId, ids), eq(stageResponses.status, 'submitted'))
					)
					.orderBy(asc(stageResponses.stageIndex));
	const bots = rows.map((row) => ({
		participantId: row.id,
		status: row.status,
		outcome: row.outcome,
		roomId: row.roomId,
		answered: responses.filter((r) => r.participantId === row.id).map((r) => r.stageId)
	}));
	return { ok: true, bots, running: countRunningBots() };
}
