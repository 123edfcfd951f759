import { and, eq } from 'drizzle-orm';
import { parseStoredStudyDefinition, type StudySettings } from '$lib/study';
import type { Executor } from '../db';
import { studyVersions } from '../db/schema';

/** Published versions never change, so their parsed settings can be kept; bounded all the same. */
const CACHE_LIMIT = 500;
const cache = new Map<string, StudySettings>();

/** The settings of a published study version; null when there is no such version. */
export async function loadVersionSettings(
	db: Executor,
	studyId: string,
	version: number
): Promise<StudySettings | null> {
	const key = `${studyId}\u0000${version}`;
	const cached = cache.get(key);
	if (cached) return cached;
	const [row] = await db
		.select({ definition: studyVersions.definition })
		.from(studyVersions)
		.where(and(eq(studyVersions.studyId, studyId), eq(studyVersions.version, version)))
		.limit(1);
	if (!row) return null;
	const parsed = parseStoredStudyDefinition(row.definition);
	if (!parsed.ok) throw new Error(`study ${studyId} version ${version} does not parse`);
	if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
	cache.set(key, parsed.definition.settings);
	return parsed.definition.settings;
}
