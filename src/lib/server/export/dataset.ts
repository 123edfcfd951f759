/**
 * What every export is made of: named datasets, each a list of documented columns and a stream
 * of row batches. Formats (CSV, JSON, NDJSON, the Psych-DS bundle) only serialise datasets;
 * they never query. Rows arrive in batches so nothing holds a whole study in memory.
 */
import type { Outcome, StudyDefinition } from '../../study';

export const DATASETS = [
	'events',
	'responses',
	'wide',
	'telemetry',
	'chat',
	'participants'
] as const;
export type DatasetName = (typeof DATASETS)[number];

export const EXPORT_FORMATS = ['csv', 'json', 'ndjson', 'psych-ds'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'datetime' | 'json';

/** A column, documented well enough to become a codebook entry (Psych-DS variableMeasured). */
export type Column = {
	name: string;
	type: ColumnType;
	description: string;
	/** e.g. `ms`, `s`, `bpm`. */
	unit?: string;
	/** Allowed values, when the column is categorical (outcomes, options). */
	levels?: string[];
};

/** One row: flat cells only (JSON values are already serialised to a string). */
export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export type Dataset = {
	name: DatasetName;
	columns: Column[];
	/** Row batches in a stable order; each call starts a fresh read. */
	batches: () => AsyncIterable<Row[]>;
	/** What one row is, in a sentence (for READMEs and the Data page). */
	description?: string;
	/**
	 * How many rows `batches` yields right now (rows added meanwhile may still come), for a
	 * progress bar; absent for datasets built in memory.
	 */
	count?: () => Promise<number>;
};

/** Which participants and events an export covers. */
export type ExportFilter = {
	/** Study versions; null: all. */
	versions: number[] | null;
	/** Participants who arrived in [from, to); null: unbounded. */
	from: Date | null;
	to: Date | null;
	/** null: every outcome, including none yet. */
	outcomes: Outcome[] | null;
	includeBots: boolean;
};

/** What building datasets needs besides the database. */
export type ExportScope = {
	studyId: string;
	/** The published definitions by version, for stage/item names, codebooks and wide columns. */
	definitions: Map<number, StudyDefinition>;
	filter: ExportFilter;
	/** Only for users with the data permission: adds external-id columns to `participants`. */
	includeExternalIds: boolean;
};
