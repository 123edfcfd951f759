import { and, eq } from 'drizzle-orm';
import { parseStoredStudyDefinition, type StudyDefinition } from '$lib/study';
import type { Executor } from '../db';
import { studyVersions } from '../db/schema';

/** Published versions never change, so their parsed definitions can be kept; bounded all the same. */
const CACHE_LIMIT = 200;
const cache = new Map<string, StudyDefinition>();

/** The whole definition of a published study version (stages included); null when missing. */
export async function loadVersionDefinition(
	db: Executor,
	studyId: string,
	version: number
): Promise<StudyDefinition | null> {
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
	cache.set(key, parsed.definition);
	return parsed.definition;
}
