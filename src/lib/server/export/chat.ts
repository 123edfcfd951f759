/**
 * The chat dataset: one row per message (`chat.sent` events), in room formation order and then
 * the order messages were sent.
 */
import { and, count, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../db';
import { roomEvents } from '../db/schema';
import { column, elapsedMs, formatTime } from './cells';
import {
	PARTICIPANT_COLUMNS,
	ROOM_COLUMNS,
	RowBatcher,
	STUDY_COLUMNS,
	eventSubject,
	readRoomEvents
} from './common';
import { loadRoomMembers, type ExportContext } from './context';
import type { Dataset, ExportScope, Row } from './dataset';
import { includedRoomIds, isNotExcluded } from './filter';

const CHAT_EVENT = 'chat.sent';

export const CHAT_COLUMNS = [
	...STUDY_COLUMNS,
	...ROOM_COLUMNS,
	column('seq', 'integer', "The message's event in the room's log (see the events dataset)."),
	column('message_id', 'integer', "The message's number within its room (1, 2, 3…)."),
	column('stage_id', 'string', 'The stage the message was sent on.'),
	column('stage_index', 'integer', "The stage's position in the study (0 = first)."),
	...PARTICIPANT_COLUMNS,
	column('text', 'string', 'The message as sent (trimmed).'),
	column('server_time', 'datetime', 'When the server committed the message (ISO 8601, UTC, ms).'),
	column('onset_ms', 'integer', 'Milliseconds from the room being formed to the message.', {
		unit: 'ms'
	})
];

/** Chat messages the filter keeps: not written by an excluded participant. */
function selectChat(scope: ExportScope) {
	return and(eq(roomEvents.name, CHAT_EVENT), isNotExcluded(eventSubject, scope.filter));
}

async function* readChatRows(db: Executor, context: ExportContext): AsyncGenerator<Row[]> {
	const batcher = new RowBatcher();
	const where = selectChat(context.scope);
	for (const room of context.rooms) {
		if (!room.included) continue;
		const members = await loadRoomMembers(db, context.scope, room.id);
		const stages = context.scope.definitions.get(room.version)?.stages ?? [];
		for await (const events of readRoomEvents(db, room, where)) {
			for (const event of events) {
				const member = event.subject === null ? undefined : members.get(event.subject);
				const stageIndex = stages.findIndex((stage) => stage.id === event.stageId);
				const messageId = event.messageId === null ? Number.NaN : Number(event.messageId);
				batcher.push({
					study_id: context.scope.studyId,
					version: room.version,
					room_id: room.id,
					group: room.group,
					seq: event.seq,
					message_id: Number.isFinite(messageId) ? messageId : null,
					stage_id: event.stageId,
					stage_index: stageIndex === -1 ? null : stageIndex,
					participant_id: event.subject,
					role: member?.role ?? null,
					condition: member?.condition ?? null,
					is_bot: member?.isBot ?? null,
					text: event.value,
					server_time: formatTime(event.at),
					onset_ms: elapsedMs(room.createdAt, event.at)
				});
			}
			const full = batcher.takeFull();
			if (full) yield full;
		}
	}
	const rest = batcher.take();
	if (rest.length > 0) yield rest;
}

/** Chat messages the export would contain now. */
export async function countChat(db: Executor, scope: ExportScope): Promise<number> {
	const [row] = await db
		.select({ n: count() })
		.from(roomEvents)
		.where(
			and(
				inArray(roomEvents.roomId, includedRoomIds(scope.studyId, scope.filter)),
				selectChat(scope)
			)
		);
	return row?.n ?? 0;
}

/** The chat dataset of an export. */
export function createChatDataset(db: Executor, context: ExportContext): Dataset {
	return {
		name: 'chat',
		description: 'One row per chat message sent in a room.',
		columns: CHAT_COLUMNS,
		batches: () => readChatRows(db, context),
		count: () => countChat(db, context.scope)
	};
}
