/**
 * The LiveKit room of an Ensemble room. The mapping is part of the data contract: recordings
 * (egress) and webhooks name LiveKit rooms, and map back to Ensemble rooms through it, so it
 * must never change for rooms that exist. The prefix keeps our rooms apart from anything else
 * that shares the LiveKit project.
 */

const ROOM_NAME_PREFIX = 'ensemble-';

/** The LiveKit room name of Ensemble room `roomId`: `ensemble-<roomId>`. */
export function livekitRoomName(roomId: string): string {
	return `${ROOM_NAME_PREFIX}${roomId}`;
}

/** The Ensemble room id behind a LiveKit room name, or null for a room that is not ours. */
export function roomIdFromLivekitName(name: string): string | null {
	if (!name.startsWith(ROOM_NAME_PREFIX)) return null;
	const roomId = name.slice(ROOM_NAME_PREFIX.length);
	return roomId === '' ? null : roomId;
}
