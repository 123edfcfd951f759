import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { SessionUser } from '../auth/sessions';
import { recordAudit } from '../audit/record';
import type { Database } from '../db';
import {
	participantExternalIds,
	participants,
	roomEvents,
	roomMembers,
	rooms,
	stageResponses,
	telemetrySamples
} from '../db/schema';
import { loadStudyForUser } from '../studies/access';
import { readKeyset, toByteStream, writeJsonObject, type JsonSection } from './json-stream';
import {
	chatOfParticipant,
	countRows,
	eventsOfParticipant,
	findParticipantRooms,
	telemetryOfParticipant
} from './records';

/** Rows read per query while streaming: bounded memory whatever the participant sent. */
export const EXPORT_PAGE_SIZE = 1000;

/** The `format` of the document, so a reader knows what it holds. */
export const PARTICIPANT_EXPORT_FORMAT = 'ensemble-participant';

/** How many rows of each kind one participant has (what the audit entry records). */
export type ParticipantDataCounts = {
	externalIds: number;
	roomMemberships: number;
	stageResponses: number;
	chatMessages: number;
	roomEvents: number;
	telemetry: number;
};

export type ParticipantExportResult =
	| {
			ok: true;
			filename: string;
			/** The JSON document, produced as it is read. */
			body: ReadableStream<Uint8Array>;
			counts: ParticipantDataCounts;
	  }
	| { ok: false; reason: 'not_found' | 'data_permission' | 'participant_not_found' };

/**
 * Everything stored about one participant, as one JSON document (GDPR access): their row
 * (without the token hash), external ids, room memberships, stage responses, the chat they
 * wrote, the room events they acted in or that name them, and the telemetry they sent. Needs
 * the data permission. The audit entry (`participant.export`, with counts, never the data) is
 * written before the first byte leaves; the document streams in pages of `EXPORT_PAGE_SIZE`.
 */
export async function exportParticipantData(
	db: Database,
	studyId: string,
	participantId: string,
	user: SessionUser
): Promise<ParticipantExportResult> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	if (!found.dataAccess) return { ok: false, reason: 'data_permission' };
	const [participant] = await db
		.select()
		.from(participants)
		.where(and(eq(participants.id, participantId), eq(participants.studyId, studyId)))
		.limit(1);
	if (!participant) return { ok: false, reason: 'participant_not_found' };
	const roomIds = await findParticipantRooms(db, participantId, participant.roomId);
	const counts = await countParticipantData(db, participantId, roomIds);
	await recordAudit(db, {
		user,
		studyId,
		action: 'participant.export',
		detail: { participantId, format: 'json', counts }
	});
	const { tokenHash: _secret, ...row } = participant;
	const sections: JsonSection[] = [
		{ key: 'format', value: PARTICIPANT_EXPORT_FORMAT },
		{ key: 'formatVersion', value: 1 },
		{ key: 'exportedAt', value: new Date().toISOString() },
		{ key: 'study', value: { id: found.study.id, title: found.study.title } },
		{ key: 'participant', value: row },
		{ key: 'externalIds', pages: () => readExternalIds(db, participantId) },
		{ key: 'roomMemberships', pages: () => readMemberships(db, participantId) },
		{ key: 'stageResponses', pages: () => readStageResponses(db, participantId) },
		{ key: 'chatMessages', pages: () => readChat(db, participantId, roomIds) },
		{ key: 'roomEvents', pages: () => readEvents(db, participantId, roomIds) },
		{ key: 'telemetry', pages: () => readTelemetry(db, participantId, roomIds) }
	];
	return {
		ok: true,
		filename: `participant-${participantId}.json`,
		body: toByteStream(writeJsonObject(sections)),
		counts
	};
}

/** Counts what `exportParticipantData` and `eraseParticipant` reach, one query per kind. */
export async function countParticipantData(
	db: Database,
	participantId: string,
	roomIds: string[]
): Promise<ParticipantDataCounts> {
	const count = async (query: Promise<{ n: number }[]>) => (await query)[0]?.n ?? 0;
	const [externalIds, roomMemberships, responses, chatMessages, events, telemetry] =
		await Promise.all([
			count(
				db
					.select({ n: countRows() })
					.from(participantExternalIds)
					.where(eq(participantExternalIds.participantId, participantId))
			),
			count(
				db
					.select({ n: countRows() })
					.from(roomMembers)
					.where(eq(roomMembers.participantId, participantId))
			),
			count(
				db
					.select({ n: countRows() })
					.from(stageResponses)
					.where(eq(stageResponses.participantId, participantId))
			),
			count(
				db
					.select({ n: countRows() })
					.from(roomEvents)
					.where(chatOfParticipant(roomIds, participantId))
			),
			count(
				db
					.select({ n: countRows() })
					.from(roomEvents)
					.where(eventsOfParticipant(roomIds, participantId))
			),
			count(
				db
					.select({ n: countRows() })
					.from(telemetrySamples)
					.where(telemetryOfParticipant(roomIds, participantId))
			)
		]);
	return {
		externalIds,
		roomMemberships,
		stageResponses: responses,
		chatMessages,
		roomEvents: events,
		telemetry
	};
}

async function* readExternalIds(db: Database, participantId: string) {
	yield await db
		.select({
			source: participantExternalIds.source,
			name: participantExternalIds.name,
			value: participantExternalIds.value
		})
		.from(participantExternalIds)
		.where(eq(participantExternalIds.participantId, participantId))
		.orderBy(asc(participantExternalIds.source), asc(participantExternalIds.name));
}

async function* readMemberships(db: Database, participantId: string) {
	// One row at most (room_members is unique per participant); a join is clearer than a page.
	yield await db
		.select({
			roomId: roomMembers.roomId,
			role: roomMembers.role,
			condition: roomMembers.condition,
			joinedAt: roomMembers.joinedAt,
			roomKind: rooms.kind,
			studyVersion: rooms.studyVersion,
			roomCreatedAt: rooms.createdAt
		})
		.from(roomMembers)
		.innerJoin(rooms, eq(rooms.id, roomMembers.roomId))
		.where(eq(roomMembers.participantId, participantId))
		.orderBy(asc(roomMembers.roomId));
}

function readStageResponses(db: Database, participantId: string) {
	return readKeyset(
		(after: string | null, size) =>
			db
				.select({
					stageId: stageResponses.stageId,
					stageIndex: stageResponses.stageIndex,
					version: stageResponses.version,
					roomId: stageResponses.roomId,
					status: stageResponses.status,
					incompleteReason: stageResponses.incompleteReason,
					response: stageResponses.response,
					submittedAt: stageResponses.submittedAt
				})
				.from(stageResponses)
				.where(
					and(
						eq(stageResponses.participantId, participantId),
						after === null ? undefined : gt(stageResponses.stageId, after)
					)
				)
				.orderBy(asc(stageResponses.stageId))
				.limit(size),
		(row) => row.stageId,
		EXPORT_PAGE_SIZE
	);
}

/** Room events in (room, seq) order, one room after the other, keyset on seq. */
async function* readEventsWhere(db: Database, roomIds: string[], where: (roomId: string) => SQL) {
	for (const roomId of roomIds) {
		yield* readKeyset(
			(after: number | null, size) =>
				db
					.select({
						roomId: roomEvents.roomId,
						seq: roomEvents.seq,
						at: roomEvents.at,
						actor: roomEvents.actor,
						name: roomEvents.name,
						payload: roomEvents.payload
					})
					.from(roomEvents)
					.where(and(where(roomId), after === null ? undefined : gt(roomEvents.seq, after)))
					.orderBy(asc(roomEvents.seq))
					.limit(size),
			(row) => row.seq,
			EXPORT_PAGE_SIZE
		);
	}
}

async function* readChat(db: Database, participantId: string, roomIds: string[]) {
	for await (const page of readEventsWhere(db, roomIds, (roomId) =>
		chatOfParticipant([roomId], participantId)
	)) {
		yield page.map(({ roomId, seq, payload }) => ({
			roomId,
			seq,
			...(payload as Record<string, unknown>)
		}));
	}
}

function readEvents(db: Database, participantId: string, roomIds: string[]) {
	return readEventsWhere(db, roomIds, (roomId) => eventsOfParticipant([roomId], participantId));
}

async function* readTelemetry(db: Database, participantId: string, roomIds: string[]) {
	for (const roomId of roomIds) {
		yield* readKeyset(
			(after: string | null, size) =>
				db
					.select({
						roomId: telemetrySamples.roomId,
						sampleId: telemetrySamples.sampleId,
						kind: telemetrySamples.kind,
						clientTime: telemetrySamples.clientTime,
						receivedAt: telemetrySamples.receivedAt,
						value: telemetrySamples.value
					})
					.from(telemetrySamples)
					.where(
						and(
							telemetryOfParticipant([roomId], participantId),
							after === null ? undefined : gt(telemetrySamples.sampleId, after)
						)
					)
					.orderBy(asc(telemetrySamples.sampleId))
					.limit(size),
			(row) => row.sampleId,
			EXPORT_PAGE_SIZE
		);
	}
}
