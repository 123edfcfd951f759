import type { RoomEvent, TelemetrySample } from '../../protocol';
import type { StudyRoomShell } from '../../room';

/** A study room's state as its LiveRoom holds it (immutable: safe to keep a reference). */
export type TappedRoom = { shell: StudyRoomShell; formedAt: number };

/**
 * What a study room on this replica tells the live monitors. `LiveRoom` calls it; the monitor
 * relay (relay.ts) implements it. Both calls are cheap and never throw into the room.
 */
export interface RoomMonitorTap {
	/**
	 * Committed events this replica folded into a loaded study room, in seq order, and the room
	 * after them (a monitor that did not know the room starts from it without reading the log).
	 */
	roomEvents(studyId: string, roomId: string, events: readonly RoomEvent[], room: TappedRoom): void;
	/** Telemetry a member of the room sent on a socket of this replica (already stored). */
	telemetry(
		studyId: string,
		roomId: string,
		memberId: string,
		samples: readonly TelemetrySample[]
	): void;
}
