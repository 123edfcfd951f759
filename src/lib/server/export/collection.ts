/**
 * Keeps a long export's memory flat. Each batch leaves a few MB of objects (driver rows, cells,
 * text) that live across awaits, so they reach the old generation, which JavaScriptCore only
 * collects in a full collection; its threshold grows with the heap, and PGlite's WebAssembly
 * memory makes that heap hundreds of MB. Measured on PGlite (200 000 events): without help the
 * server's RSS rose ~3 MB per 2 000 rows until ~1 GB. With a full collection after every
 * `FULL_COLLECTION_BYTES` of cell text it stays within tens of MB of where it started, whatever
 * the export's size (bench/export.ts). A full collection takes ~50 ms on PGlite (less on
 * Postgres, whose heap is small): rooms on this replica feel that as a short pause about once a
 * second while an export runs.
 */
import type { Row } from './dataset';

/**
 * Cell text between full collections. Each byte of cell text comes with about as much again
 * in driver rows, serialised text and encoded bytes, so ~4× this is garbage at the peak.
 */
const FULL_COLLECTION_BYTES = 8 * 1024 * 1024;

let bytesSinceFull = 0;

/** About how many bytes of text a batch's cells hold. */
function estimateBytes(rows: readonly Row[]): number {
	let bytes = 0;
	for (const row of rows) {
		for (const key in row) {
			const cell = row[key];
			bytes += typeof cell === 'string' ? cell.length + 8 : 8;
		}
	}
	return bytes;
}

/** Notes a batch produced (by any export); collects when enough garbage has piled up. */
export function noteBatchProduced(rows: readonly Row[]): void {
	if (typeof Bun === 'undefined' || rows.length === 0) return;
	bytesSinceFull += estimateBytes(rows);
	if (bytesSinceFull >= FULL_COLLECTION_BYTES) {
		bytesSinceFull = 0;
		Bun.gc(true);
	} else {
		// A hint for the young generation; costs nothing measurable.
		Bun.gc(false);
	}
}
