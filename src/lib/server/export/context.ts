/**
 * What every dataset of one export shares, read once when the export starts: the versions'
 * content hashes, the study's rooms with their group numbers and heads, and the moment the
 * export began (rows written after it are left out, so one file is one consistent cut).
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db';
import { participants, roomMembers, rooms, studyVersions } from '../db/schema';
import type { ExportScope } from './dataset';
import { hasIncludedMember, matchParticipant, qualified } from './filter';

export type ExportRoom = {
	id: string;
	/** 1, 2, 3… in the order the study's rooms were formed; stable whatever the filter. */
	group: number;
	version: number;
	createdAt: Date;
	/** The room's last event when the export started: later events are not exported. */
	headSeq: number;
	/** At least one member passes the filter. */
	included: boolean;
};

export type ExportContext = {
	scope: ExportScope;
	startedAt: Date;
	/** Content hash (SHA-256 of the canonical definition) by version. */
	hashes: Map<number, string>;
	/** Every study room, in formation order. */
	rooms: ExportRoom[];
	roomsById: Map<string, ExportRoom>;
};

/** Reads the shared context of an export of `scope`. */
export async function loadExportContext(db: Executor, scope: ExportScope): Promise<ExportContext> {
	const startedAt = new Date();
	const versions = await db
		.select({ version: studyVersions.version, hash: studyVersions.contentHash })
		.from(studyVersions)
		.where(eq(studyVersions.studyId, scope.studyId));
	const rows = await db
		.select({
			id: rooms.id,
			version: rooms.studyVersion,
			createdAt: rooms.createdAt,
			headSeq: rooms.headSeq,
			included: hasIncludedMember(qualified('rooms', 'id'), scope.filter).mapWith(Boolean)
		})
		.from(rooms)
		.where(and(eq(rooms.studyId, scope.studyId), eq(rooms.kind, 'study')))
		.orderBy(asc(rooms.createdAt), asc(rooms.id));
	const studyRooms = rows.map((row, index): ExportRoom => ({
		id: row.id,
		group: index + 1,
		version: row.version ?? 0,
		createdAt: row.createdAt,
		headSeq: row.headSeq,
		included: row.included
	}));
	return {
		scope,
		startedAt,
		hashes: new Map(versions.map((v) => [v.version, v.hash])),
		rooms: studyRooms,
		roomsById: new Map(studyRooms.map((room) => [room.id, room]))
	};
}

/** A room member as the rows about them describe them. */
export type ExportMember = {
	participantId: string;
	role: string | null;
	condition: string | null;
	isBot: boolean;
	/** Passes the filter; rows about members who do not are left out. */
	included: boolean;
};

/** The members of one room (at most a group's size), by participant id. */
export async function loadRoomMembers(
	db: Executor,
	scope: ExportScope,
	roomId: string
): Promise<Map<string, ExportMember>> {
	const rows = await db
		.select({
			participantId: roomMembers.participantId,
			role: sql<string | null>`coalesce(${roomMembers.role}, ${participants.role})`,
			condition: sql<string | null>`coalesce(${roomMembers.condition}, ${participants.condition})`,
			isBot: participants.isBot,
			included: matchParticipant(scope.filter).mapWith(Boolean)
		})
		.from(roomMembers)
		.innerJoin(participants, eq(participants.id, roomMembers.participantId))
		.where(eq(roomMembers.roomId, roomId));
	return new Map(rows.map((row) => [row.participantId, row]));
}
