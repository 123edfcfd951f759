import { createBlankStudy, parseStudyDefinition, type StudyDefinition } from '../../study';
import { findStudyTemplate } from '../../study/templates';
import type { SessionUser } from '../auth/sessions';
import { generateSecureRandomString } from '../auth/tokens';
import type { Database, Executor } from '../db';
import { studies } from '../db/schema';
import { log } from '../log';
import { ensureDemoMedia } from '../media/demo';
import { canCreateStudies, loadStudyForUser } from './access';
import { recordStudyChange } from './changes';
import type { CreateStudyResult, StudyChangeAction } from './types';
import { readStoredDefinition } from './validation';

/** Longest study title (the schema's `settings.title` bound). */
const TITLE_MAX = 200;

/** A public link slug: 10 characters of the unambiguous alphabet (50 bits), not guessable. */
export function generateStudySlug(): string {
	return generateSecureRandomString().slice(0, 10);
}

/**
 * Inserts a new draft study owned by `ownerId` and logs how it came to be. Returns its id.
 * Both writes share `db`, so pass a transaction to make them one.
 */
export async function insertStudy(
	db: Executor,
	ownerId: string,
	definition: StudyDefinition,
	action: Extract<StudyChangeAction, 'created' | 'imported' | 'duplicated'>,
	detail: Record<string, unknown>,
	now: Date
): Promise<string> {
	const id = generateSecureRandomString();
	await db.insert(studies).values({
		id,
		slug: generateStudySlug(),
		ownerId,
		title: definition.settings.title,
		status: 'draft',
		draft: definition,
		draftRevision: 1,
		createdAt: now,
		updatedAt: now,
		updatedBy: ownerId
	});
	await recordStudyChange(db, id, ownerId, action, detail, now);
	return id;
}

/**
 * The demo clip's media id for templates with a video stage, so they are publishable at once.
 * Without it (the clip missing, storage failing) the study is still created and asks for a
 * video before publishing.
 */
async function findDemoMediaId(
	db: Database,
	user: SessionUser,
	needs: { media: boolean }
): Promise<string | null> {
	if (!needs.media) return null;
	const demo = await ensureDemoMedia(db, user.id);
	if (demo.ok) return demo.mediaId;
	log.warn('studies.demo_media_unavailable', { reason: demo.message });
	return null;
}

/** The starting definition for `createStudy`: a given one, a template, or a blank study. */
async function chooseDefinition(
	db: Database,
	user: SessionUser,
	input: { title?: string; templateId?: string; definition?: unknown }
): Promise<
	| { ok: true; definition: StudyDefinition }
	| Exclude<CreateStudyResult, { ok: true } | { reason: 'forbidden' }>
> {
	let definition: StudyDefinition;
	if (input.definition !== undefined) {
		const parsed = parseStudyDefinition(input.definition);
		if (!parsed.ok) return { ok: false, reason: 'invalid', issues: parsed.issues };
		definition = parsed.definition;
	} else if (input.templateId !== undefined) {
		const template = findStudyTemplate(input.templateId);
		if (!template) return { ok: false, reason: 'unknown_template' };
		definition = template.create({ demoMediaId: await findDemoMediaId(db, user, template.needs) });
	} else {
		definition = createBlankStudy();
	}
	const title = input.title?.trim();
	if (title) definition = { ...definition, settings: { ...definition.settings, title } };
	// Templates and given titles go through the same shape check as a saved draft, so what is
	// stored is exactly what the schema outputs (and hashes the same way).
	const checked = parseStudyDefinition(definition);
	if (!checked.ok) return { ok: false, reason: 'invalid', issues: checked.issues };
	return checked;
}

/**
 * Creates a draft study for `user` from a definition, a template or blank, with an optional
 * title. Viewers cannot create studies.
 */
export async function createStudy(
	db: Database,
	user: SessionUser,
	input: { title?: string; templateId?: string; definition?: unknown }
): Promise<CreateStudyResult> {
	if (!canCreateStudies(user.role)) return { ok: false, reason: 'forbidden' };
	const chosen = await chooseDefinition(db, user, input);
	if (!chosen.ok) return chosen;
	const detail = input.templateId ? { templateId: input.templateId } : {};
	const id = await db.transaction((tx) =>
		insertStudy(tx, user.id, chosen.definition, 'created', detail, new Date())
	);
	return { ok: true, id };
}

/**
 * Copies a study's current draft into a new study owned by `user` ("Copy of …"), without its
 * versions, members or log. Anyone who can see the study and may create studies can do this.
 */
export async function duplicateStudy(
	db: Database,
	user: SessionUser,
	id: string
): Promise<{ ok: true; id: string } | { ok: false; reason: 'not_found' | 'forbidden' }> {
	const found = await loadStudyForUser(db, user, id);
	if (!found) return { ok: false, reason: 'not_found' };
	if (!canCreateStudies(user.role)) return { ok: false, reason: 'forbidden' };
	const draft = readStoredDefinition(id, found.study.draft);
	const title = `Copy of ${draft.settings.title}`.slice(0, TITLE_MAX);
	const definition = { ...draft, settings: { ...draft.settings, title } };
	const copyId = await db.transaction((tx) =>
		insertStudy(
			tx,
			user.id,
			definition,
			'duplicated',
			{ fromStudyId: id, fromTitle: found.study.title },
			new Date()
		)
	);
	return { ok: true, id: copyId };
}
