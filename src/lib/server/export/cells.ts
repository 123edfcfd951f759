/**
 * Turning stored values into flat cells: times as ISO 8601 UTC with milliseconds, JSON values
 * as their text, numbers only when finite. Shared by every dataset so a time or a JSON cell
 * reads the same in each file.
 */
import type { Cell, Column, ColumnType } from './dataset';

/** ISO 8601 UTC with milliseconds, e.g. `2025-03-01T12:00:00.123Z`; null for no time. */
export function formatTime(value: Date | number | null | undefined): string | null {
	if (value === null || value === undefined) return null;
	const date = typeof value === 'number' ? new Date(value) : value;
	return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A JSON value's text; null stays null (an empty cell), not the text `null`. */
export function formatJson(value: unknown): string | null {
	if (value === null || value === undefined) return null;
	return JSON.stringify(value);
}

/** A number cell: finite numbers only (JSON has no NaN or Infinity). */
export function formatNumber(value: unknown): number | null {
	return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A text cell: strings only. */
export function formatText(value: unknown): string | null {
	return typeof value === 'string' ? value : null;
}

/**
 * An answer as one cell: numbers, text and booleans as they are, lists (checkboxes) and
 * anything else as JSON text.
 */
export function formatAnswer(value: unknown): Cell {
	if (value === null || value === undefined) return null;
	if (typeof value === 'string' || typeof value === 'boolean') return value;
	if (typeof value === 'number') return Number.isFinite(value) ? value : null;
	return JSON.stringify(value);
}

/** Milliseconds between two times, or null when either is missing. */
export function elapsedMs(from: Date | number | null, to: Date | number | null): number | null {
	if (from === null || to === null) return null;
	const start = typeof from === 'number' ? from : from.getTime();
	const end = typeof to === 'number' ? to : to.getTime();
	return end - start;
}

/** A plain object's field, or undefined for anything else (stored JSON is not trusted). */
export function readField(value: unknown, key: string): unknown {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
	return (value as Record<string, unknown>)[key];
}

/** A column, tersely. */
export function column(
	name: string,
	type: ColumnType,
	description: string,
	extra: Pick<Column, 'unit' | 'levels'> = {}
): Column {
	return { name, type, description, ...extra };
}
