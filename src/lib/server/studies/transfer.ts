import { and, eq } from 'drizzle-orm';
import { hashStudyDefinition, parseStudyDefinition, type StudyDefinition } from '../../study';
import type { SessionUser } from '../auth/sessions';
import type { Database } from '../db';
import { studyVersions } from '../db/schema';
import { canCreateStudies, loadStudyForUser } from './access';
import { insertStudy } from './creation';
import type { CreateStudyResult, StudyExport } from './types';
import { readStoredDefinition } from './validation';

/** The `format` of an export file; an import without it is taken as a bare definition. */
export const STUDY_EXPORT_FORMAT = 'ensemble-study';

/**
 * A file name safe in a Content-Disposition header and on every file system: the title in
 * lower-case ASCII words joined by dashes, then `.v3` or `.draft`, then `.ensemble.json`.
 */
export function exportFilename(title: string, version: number | null): string {
	const base =
		title
			.normalize('NFKD')
			.replace(/[\u0300-\u036f]/g, '')
			.toLowerCase()
			.replace(/[^a-z0-9]+/g, '-')
			.replace(/^-+|-+$/g, '')
			.slice(0, 60)
			.replace(/-+$/, '') || 'study';
	return `${base}.${version === null ? 'draft' : `v${version}`}.ensemble.json`;
}

/**
 * Exports a published version, or the draft when `version` is omitted, as a self-describing
 * JSON document (for backups, review in git, or moving a study between instances).
 */
export async function exportStudy(
	db: Database,
	user: SessionUser,
	id: string,
	version?: number
): Promise<
	{ ok: true; filename: string; document: StudyExport } | { ok: false; reason: 'not_found' }
> {
	const found = await loadStudyForUser(db, user, id);
	if (!found) return { ok: false, reason: 'not_found' };
	let definition: StudyDefinition;
	if (version === undefined) {
		definition = readStoredDefinition(id, found.study.draft);
	} else {
		const [row] = await db
			.select({ definition: studyVersions.definition })
			.from(studyVersions)
			.where(and(eq(studyVersions.studyId, id), eq(studyVersions.version, version)));
		if (!row) return { ok: false, reason: 'not_found' };
		definition = readStoredDefinition(id, row.definition);
	}
	const exported = version ?? null;
	return {
		ok: true,
		filename: exportFilename(definition.settings.title || found.study.title, exported),
		document: {
			format: STUDY_EXPORT_FORMAT,
			exportedAt: new Date().toISOString(),
			version: exported,
			contentHash: hashStudyDefinition(definition),
			definition
		}
	};
}

/** The definition inside an import: an export document's, or the document itself. */
function unwrapImport(document: unknown): { definition: unknown; prefix: string } {
	if (
		typeof document === 'object' &&
		document !== null &&
		(document as { format?: unknown }).format === STUDY_EXPORT_FORMAT
	) {
		return { definition: (document as { definition?: unknown }).definition, prefix: 'definition' };
	}
	return { definition: document, prefix: '' };
}

/**
 * Creates a new draft study from an export document or a bare definition. The definition is
 * shape-checked like a saved draft; issue paths are relative to the document sent.
 */
export async function importStudy(
	db: Database,
	user: SessionUser,
	document: unknown
): Promise<CreateStudyResult> {
	if (!canCreateStudies(user.role)) return { ok: false, reason: 'forbidden' };
	const { definition, prefix } = unwrapImport(document);
	const parsed = parseStudyDefinition(definition);
	if (!parsed.ok) {
		const join = (path: string) => [prefix, path].filter(Boolean).join('.');
		return {
			ok: false,
			reason: 'invalid',
			issues: parsed.issues.map((issue) => ({ ...issue, path: join(issue.path) }))
		};
	}
	const source = document as Partial<StudyExport>;
	const detail = {
		contentHash: hashStudyDefinition(parsed.definition),
		...(prefix && typeof source.version === 'number' ? { sourceVersion: source.version } : {})
	};
	const id = await db.transaction((tx) =>
		insertStudy(tx, user.id, parsed.definition, 'imported', detail, new Date())
	);
	return { ok: true, id };
}
