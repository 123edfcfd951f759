/**
 * The dashboard's side of the monitor: folds the server's frames (a snapshot, then rooms,
 * waiting-room and count updates) into what the page shows. Pure, so the browser's rune class
 * only holds the result.
 */
import type { MonitorRoom, MonitorServerMessage, MonitorWaiting, OutcomeCount } from './protocol';

/** Finished rooms the dashboard lists (the newest); the counts cover every room. */
export const MAX_FINISHED_SHOWN = 30;

export type MonitorView = {
	/** Room id → its latest summary. */
	rooms: Record<string, MonitorRoom>;
	waiting: MonitorWaiting;
	counts: OutcomeCount[];
	/** Server time of the latest frame. */
	at: number;
};

/**
 * Folds one frame. Updates before the first snapshot are dropped (the snapshot that follows
 * includes them); a room update replaces the room whole, unless it is older (a lower head) than
 * what is shown, which can happen when a snapshot overtook it.
 */
export function applyMonitorMessage(
	view: MonitorView | null,
	message: MonitorServerMessage
): MonitorView | null {
	switch (message.type) {
		case 'snapshot':
			return trimFinished({
				rooms: Object.fromEntries(message.rooms.map((room) => [room.id, room])),
				waiting: message.waiting,
				counts: message.counts,
				at: message.at
			});
		case 'rooms': {
			if (!view) return view;
			const rooms = { ...view.rooms };
			for (const room of message.rooms) {
				const shown = rooms[room.id];
				if (!shown || shown.head <= room.head) rooms[room.id] = room;
			}
			return trimFinished({ ...view, rooms, at: message.at });
		}
		case 'waiting':
			return view && { ...view, waiting: message.waiting, at: message.at };
		case 'counts':
			return view && { ...view, counts: message.counts, at: message.at };
		case 'error':
			return view;
	}
}

/** Keeps the newest MAX_FINISHED_SHOWN finished rooms, so a long study stays light. */
function trimFinished(view: MonitorView): MonitorView {
	const finished = Object.values(view.rooms).filter((room) => room.finished !== null);
	if (finished.length <= MAX_FINISHED_SHOWN) return view;
	const rooms = { ...view.rooms };
	for (const room of sortFinished(finished).slice(MAX_FINISHED_SHOWN)) delete rooms[room.id];
	return { ...view, rooms };
}

function sortFinished(rooms: MonitorRoom[]): MonitorRoom[] {
	return [...rooms].sort((a, b) => b.finished!.at - a.finished!.at || (a.id < b.id ? -1 : 1));
}

/** Rooms still running, oldest first (a stable grid: new groups appear at the end). */
export function listRunningRooms(view: MonitorView): MonitorRoom[] {
	return Object.values(view.rooms)
		.filter((room) => room.finished === null)
		.sort((a, b) => a.formedAt - b.formedAt || (a.id < b.id ? -1 : 1));
}

/** Finished rooms, the most recently finished first. */
export function listFinishedRooms(view: MonitorView): MonitorRoom[] {
	return sortFinished(Object.values(view.rooms).filter((room) => room.finished !== null));
}

export type CountTable = {
	/** Column keys: the conditions seen, in `conditionOrder` first, null (none) last. */
	conditions: (string | null)[];
	rows: {
		outcome: OutcomeCount['outcome'];
		cells: { participants: number; bots: number }[];
		total: number;
	}[];
	totals: number[];
	total: number;
};

/**
 * Counts per outcome × condition as a table: rows in `outcomeOrder`, only outcomes with
 * someone in them; columns for the conditions that occur.
 */
export function tabulateCounts(
	counts: readonly OutcomeCount[],
	outcomeOrder: readonly OutcomeCount['outcome'][],
	conditionOrder: readonly string[] = []
): CountTable {
	const seen = new Set(counts.map((count) => count.condition));
	const conditions: (string | null)[] = [
		...conditionOrder.filter((id) => seen.has(id)),
		...[...seen].filter((id): id is string => id !== null && !conditionOrder.includes(id)).sort(),
		...(seen.has(null) ? [null] : [])
	];
	const rows = outcomeOrder
		.map((outcome) => {
			const cells = conditions.map((condition) => {
				const found = counts.find((c) => c.outcome === outcome && c.condition === condition);
				return { participants: found?.participants ?? 0, bots: found?.bots ?? 0 };
			});
			return { outcome, cells, total: cells.reduce((n, cell) => n + cell.participants, 0) };
		})
		.filter((row) => row.total > 0);
	const totals = conditions.map((_, i) =>
		rows.reduce((n, row) => n + row.cells[i]!.participants, 0)
	);
	return { conditions, rows, totals, total: totals.reduce((a, b) => a + b, 0) };
}
