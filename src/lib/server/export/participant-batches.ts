/**
 * The included participants in arrival order, read in keyset-paginated batches, with their
 * room membership and (per batch) their stage responses. The responses, wide and participants
 * datasets are built from these batches, so each holds at most one batch in memory.
 */
import { and, asc, count, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Outcome } from '../../study';
import type { Executor } from '../db';
import { participants, roomMembers, stageResponses, type ParticipantStatus } from '../db/schema';
import type { ExportScope } from './dataset';
import { selectParticipants } from './filter';

/**
 * Participants per batch. Smaller than a row batch: each brings its responses (up to a
 * hundred stages) and, for the participants dataset, its telemetry summaries.
 */
export const PARTICIPANT_BATCH = 200;

export type ExportParticipant = {
	id: string;
	version: number;
	isBot: boolean;
	status: ParticipantStatus;
	outcome: Outcome | null;
	outcomeAt: Date | null;
	role: string | null;
	condition: string | null;
	roomId: string | null;
	createdAt: Date;
	lastSeenAt: Date;
	/** When they were formed into their room; null before. */
	joinedAt: Date | null;
	linkParams: Record<string, string>;
};

/**
 * The study's participants the filter includes, oldest first, `PARTICIPANT_BATCH` at a time.
 * The keyset cursor carries `created_at` as text so microseconds survive the round trip.
 */
export async function* readParticipantBatches(
	db: Executor,
	scope: ExportScope,
	size = PARTICIPANT_BATCH
): AsyncGenerator<ExportParticipant[]> {
	let after: { createdAt: string; id: string } | null = null;
	for (;;) {
		const cursor: SQL | undefined = after
			? sql`(${participants.createdAt}, ${participants.id}) > (${after.createdAt}::timestamptz, ${after.id})`
			: undefined;
		const rows: (ExportParticipant & { createdAtText: string })[] = await db
			.select({
				id: participants.id,
				version: participants.version,
				isBot: participants.isBot,
				status: participants.status,
				outcome: participants.outcome,
				outcomeAt: participants.outcomeAt,
				role: sql<string | null>`coalesce(${roomMembers.role}, ${participants.role})`,
				condition: sql<
					string | null
				>`coalesce(${roomMembers.condition}, ${participants.condition})`,
				roomId: sql<string | null>`coalesce(${roomMembers.roomId}, ${participants.roomId})`,
				createdAt: participants.createdAt,
				createdAtText: sql<string>`${participants.createdAt}::text`,
				lastSeenAt: participants.lastSeenAt,
				joinedAt: roomMembers.joinedAt,
				linkParams: participants.linkParams
			})
			.from(participants)
			.leftJoin(roomMembers, eq(roomMembers.participantId, participants.id))
			.where(and(selectParticipants(scope.studyId, scope.filter), cursor))
			.orderBy(asc(participants.createdAt), asc(participants.id))
			.limit(size);
		if (rows.length > 0) {
			yield rows.map(({ createdAtText: _text, ...row }) => row);
		}
		if (rows.length < size) return;
		const last = rows[rows.length - 1]!;
		after = { createdAt: last.createdAtText, id: last.id };
	}
}

/** How many participants the filter includes. */
export async function countParticipants(db: Executor, scope: ExportScope): Promise<number> {
	const [row] = await db
		.select({ n: count() })
		.from(participants)
		.where(selectParticipants(scope.studyId, scope.filter));
	return row?.n ?? 0;
}

export type ExportResponse = {
	participantId: string;
	roomId: string | null;
	stageId: string;
	stageIndex: number;
	status: 'submitted' | 'incomplete';
	incompleteReason: string | null;
	response: unknown;
	submittedAt: Date;
};

/** The stage responses of a batch of participants, by participant id, in stage order. */
export async function loadResponses(
	db: Executor,
	participantIds: string[]
): Promise<Map<string, ExportResponse[]>> {
	const byParticipant = new Map<string, ExportResponse[]>();
	if (participantIds.length === 0) return byParticipant;
	const rows = await db
		.select({
			participantId: stageResponses.participantId,
			roomId: stageResponses.roomId,
			stageId: stageResponses.stageId,
			stageIndex: stageResponses.stageIndex,
			status: stageResponses.status,
			incompleteReason: stageResponses.incompleteReason,
			response: stageResponses.response,
			submittedAt: stageResponses.submittedAt
		})
		.from(stageResponses)
		.where(inArray(stageResponses.participantId, participantIds))
		.orderBy(
			asc(stageResponses.participantId),
			asc(stageResponses.stageIndex),
			asc(stageResponses.stageId)
		);
	for (const row of rows) {
		const list = byParticipant.get(row.participantId);
		if (list) list.push(row);
		else byParticipant.set(row.participantId, [row]);
	}
	return byParticipant;
}
