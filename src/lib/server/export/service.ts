/**
 * Exports as the API and the Data page ask for them: who may export what (anyone who can see
 * the study; external ids only with the data permission), the audit entry before any data
 * leaves, and the streamed body with its file name and type.
 */
import { describeDatabaseError } from '../db/errors';
import { asc, eq } from 'drizzle-orm';
import type { StudyDefinition } from '../../study';
import { recordAudit } from '../audit/record';
import type { SessionUser } from '../auth/sessions';
import type { Executor } from '../db';
import { studyVersions } from '../db/schema';
import { log } from '../log';
import { loadStudyForUser, type StudyForUser } from '../studies/access';
import { countChat } from './chat';
import type { DatasetName, ExportScope } from './dataset';
import { buildDatasets } from './datasets';
import { countEvents } from './events';
import { CONTENT_TYPES, streamDataset, type RowFormat } from './formats';
import { countParticipants } from './participant-batches';
import { streamPsychDsBundle } from './psych-ds';
import { describeFilter, type DataQuery } from './query';
import { countResponseRows } from './responses';
import { countTelemetry } from './telemetry';

/** The audit action of every export. */
export const EXPORT_AUDIT_ACTION = 'data.export';

export type ExportFailure =
	| { ok: false; reason: 'not_found' }
	/** External ids were asked for without the data permission. */
	| { ok: false; reason: 'external_ids_forbidden' }
	/** A format that does not fit the target (psych-ds for one dataset, csv for the bundle). */
	| { ok: false; reason: 'wrong_format'; message: string };

export type ExportDownload = {
	ok: true;
	body: ReadableStream<Uint8Array>;
	filename: string;
	contentType: string;
};

type User = Pick<SessionUser, 'id' | 'email' | 'role'>;

/** The published definitions of a study, by version. */
async function loadDefinitions(
	db: Executor,
	studyId: string
): Promise<Map<number, StudyDefinition>> {
	const rows = await db
		.select({ version: studyVersions.version, definition: studyVersions.definition })
		.from(studyVersions)
		.where(eq(studyVersions.studyId, studyId))
		.orderBy(asc(studyVersions.version));
	return new Map(rows.map((row) => [row.version, row.definition as StudyDefinition]));
}

type Prepared = { ok: true; found: StudyForUser; scope: ExportScope } | ExportFailure;

/** Access checks and the export's scope; nothing is read from the data yet. */
async function prepareScope(
	db: Executor,
	user: User,
	studyId: string,
	query: DataQuery
): Promise<Prepared> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	if (query.externalIds && !found.dataAccess)
		return { ok: false, reason: 'external_ids_forbidden' };
	return {
		ok: true,
		found,
		scope: {
			studyId: found.study.id,
			definitions: await loadDefinitions(db, found.study.id),
			filter: query.filter,
			includeExternalIds: query.externalIds
		}
	};
}

/** `Ensemble study title` → `ensemble-study-title` (ASCII, for file names). */
function slugify(text: string): string {
	const slug = text
		.normalize('NFKD')
		.replace(/[^\w\s-]/g, '')
		.trim()
		.toLowerCase()
		.replace(/[\s_-]+/g, '-')
		.slice(0, 60)
		.replace(/-+$/, '');
	return slug || 'study';
}

/** e.g. `20250301T093000Z`. */
function stamp(at: Date): string {
	return at
		.toISOString()
		.replace(/[-:]/g, '')
		.replace(/\.\d{3}/, '');
}

/** The download's file name: study, dataset, time, extension. */
export function exportFilename(title: string, what: string, extension: string, at: Date): string {
	return `${slugify(title)}_${what}_${stamp(at)}.${extension}`;
}

/**
 * One dataset as a streamed download in `query.format` (CSV by default). Records the export in
 * the audit log first: an export that fails half-way was still an access.
 */
export async function openDatasetExport(
	db: Executor,
	user: User,
	studyId: string,
	name: DatasetName,
	query: DataQuery
): Promise<ExportDownload | ExportFailure> {
	const format = query.format ?? 'csv';
	if (format === 'psych-ds') {
		return {
			ok: false,
			reason: 'wrong_format',
			message: 'A Psych-DS bundle holds every dataset: ask for /data/all?format=psych-ds.'
		};
	}
	const prepared = await prepareScope(db, user, studyId, query);
	if (!prepared.ok) return prepared;
	const [dataset] = await buildDatasets(db, prepared.scope, [name]);
	await recordAudit(db, {
		user,
		studyId: prepared.found.study.id,
		action: EXPORT_AUDIT_ACTION,
		detail: {
			dataset: name,
			format,
			filter: describeFilter(query.filter),
			externalIds: query.externalIds,
			escapeFormulas: query.escapeFormulas
		}
	});
	const rowFormat: RowFormat = format;
	return {
		ok: true,
		body: streamDataset(dataset!, rowFormat, {
			csv: { escapeFormulas: query.escapeFormulas },
			onError: (error) =>
				log.error('export.failed', {
					study: studyId,
					dataset: name,
					error: describeDatabaseError(error)
				})
		}),
		filename: exportFilename(prepared.found.study.title, name, format, new Date()),
		contentType: CONTENT_TYPES[rowFormat]
	};
}

/** Every dataset in one Psych-DS bundle (a zip), streamed; audited like any export. */
export async function openBundleExport(
	db: Executor,
	user: User,
	studyId: string,
	query: DataQuery
): Promise<ExportDownload | ExportFailure> {
	const format = query.format ?? 'psych-ds';
	if (format !== 'psych-ds') {
		return {
			ok: false,
			reason: 'wrong_format',
			message: `All datasets come together only as a Psych-DS bundle; for ${format}, ask for one dataset (/data/events?format=${format}).`
		};
	}
	const prepared = await prepareScope(db, user, studyId, query);
	if (!prepared.ok) return prepared;
	const { study } = prepared.found;
	const datasets = await buildDatasets(db, prepared.scope);
	const latest = prepared.scope.definitions.get(study.latestVersion ?? -1);
	await recordAudit(db, {
		user,
		studyId: study.id,
		action: EXPORT_AUDIT_ACTION,
		detail: {
			dataset: 'all',
			format,
			filter: describeFilter(query.filter),
			externalIds: query.externalIds,
			escapeFormulas: query.escapeFormulas
		}
	});
	return {
		ok: true,
		body: streamPsychDsBundle(
			{
				scope: prepared.scope,
				study: {
					id: study.id,
					title: study.title,
					...(latest?.settings.description ? { description: latest.settings.description } : {})
				},
				datasets
			},
			{ csv: { escapeFormulas: query.escapeFormulas } }
		),
		filename: exportFilename(study.title, 'psych-ds', 'zip', new Date()),
		contentType: 'application/zip'
	};
}

export type ExportCounts = {
	ok: true;
	counts: Record<DatasetName, number>;
	filter: Record<string, unknown>;
};

/** How many rows each dataset would have with the query's filter (for the progress bar). */
export async function countExportRows(
	db: Executor,
	user: User,
	studyId: string,
	query: DataQuery
): Promise<ExportCounts | ExportFailure> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	const scope: ExportScope = {
		studyId: found.study.id,
		definitions: new Map(),
		filter: query.filter,
		includeExternalIds: false
	};
	const participants = await countParticipants(db, scope);
	const counts: Record<DatasetName, number> = {
		events: await countEvents(db, scope),
		responses: await countResponseRows(db, scope),
		wide: participants,
		telemetry: await countTelemetry(db, scope),
		chat: await countChat(db, scope),
		participants
	};
	return { ok: true, counts, filter: describeFilter(query.filter) };
}

export type ExportVersion = { version: number; contentHash: string; publishedAt: Date };

/** The study's published versions, for the filter (the caller has checked access). */
export async function listExportVersions(db: Executor, studyId: string): Promise<ExportVersion[]> {
	return db
		.select({
			version: studyVersions.version,
			contentHash: studyVersions.contentHash,
			publishedAt: studyVersions.publishedAt
		})
		.from(studyVersions)
		.where(eq(studyVersions.studyId, studyId))
		.orderBy(asc(studyVersions.version));
}
