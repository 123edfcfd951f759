import { and, eq, sql } from 'drizzle-orm';
import { generateSecureRandomString, hashSecret } from '../auth/tokens';
import type { Database } from '../db';
import { participantExternalIds, participants, type Participant } from '../db/schema';
import { findUnstorableLinkParam, parseLinkParams } from './link-params';
import { findStudyEntry, type StudyEntry } from './study-link';
import { generateParticipantToken, isParticipantToken } from './token';

export type EnterStudyInput = {
	slug: string;
	/** The token from the study's cookie, if any. */
	existingToken?: string | null;
	/** The link's query parameters (Prolific ids, `resume`, anything else). */
	params?: URLSearchParams | Record<string, string>;
	isBot?: boolean;
	now: Date;
};

export type EnterStudyResult =
	| {
			ok: true;
			participant: Participant;
			/** The token to (re)set in the cookie: the presented one on a resume, else a new one. */
			token: string;
			created: boolean;
			study: StudyEntry;
	  }
	/** `already_started`: this Prolific id already took part, from another browser or device. */
	| { ok: false; reason: 'not_found' | 'paused' | 'closed' | 'already_started' }
	/** A link parameter holds text that cannot be stored (see `findUnstorableLinkParam`). */
	| { ok: false; reason: 'invalid_link'; message: string };

/**
 * First key of the two-key advisory lock taken while a Prolific id enters a study (the second is
 * `hashtext(study id + id)`), so two devices starting at once cannot both get in.
 */
const PROLIFIC_LOCK_SPACE = 727_711;

/**
 * The participant behind a token in one study, or null. Looks up by the token's SHA-256 (the
 * only form stored); a token of another study finds nothing.
 */
export async function findParticipantByToken(
	db: Database,
	studyId: string,
	token: string
): Promise<Participant | null> {
	if (!isParticipantToken(token)) return null;
	const [row] = await db
		.select()
		.from(participants)
		.where(and(eq(participants.tokenHash, hashSecret(token)), eq(participants.studyId, studyId)))
		.limit(1);
	return row ?? null;
}

/**
 * Read-only view for the study link's GET (and HEAD): the study and, if the cookie names one,
 * its participant. Never creates anyone, so a link-preview bot fetching the page costs no slot;
 * the page submits a POST (`enterStudy`) from the browser to take part.
 */
export async function viewStudyEntry(
	db: Database,
	slug: string,
	existingToken: string | null
): Promise<{ study: StudyEntry; participant: Participant | null } | null> {
	const study = await findStudyEntry(db, slug);
	if (!study) return null;
	const participant = existingToken
		? await findParticipantByToken(db, study.studyId, existingToken)
		: null;
	return { study, participant };
}

/**
 * Enters a study from its link — call it only from the POST the page submits. A valid token
 * for this study (the cookie first, then a `resume` link: a browser that takes part already is
 * never switched here — the page asks first, see resume.ts) resumes that participant, never a
 * second one, even while the study is paused or closed (they are already in). Otherwise a new
 * participant is created with a fresh token — refused while the study is paused or closed.
 * Prolific ids go to `participant_external_ids` when the version captures them, and a
 * `PROLIFIC_PID` that already entered the study is refused (`already_started`) rather than
 * given a second participant: one person, one set of data. The other
 * parameters (never `resume`) are kept in `link_params`. After a `resume` link the caller sets
 * the cookie and redirects to the clean `/s/<slug>`, so the token leaves the address bar.
 */
export async function enterStudy(db: Database, input: EnterStudyInput): Promise<EnterStudyResult> {
	const study = await findStudyEntry(db, input.slug);
	if (!study || study.status === 'draft') return { ok: false, reason: 'not_found' };
	const unstorable = findUnstorableLinkParam(input.params ?? {});
	if (unstorable) return { ok: false, reason: 'invalid_link', message: unstorable };
	const params = parseLinkParams(input.params ?? {}, study.settings.prolific);

	for (const candidate of [input.existingToken, params.resume]) {
		if (!candidate) continue;
		const found = await findParticipantByToken(db, study.studyId, candidate);
		if (!found) continue;
		const [participant] = await db
			.update(participants)
			.set({ lastSeenAt: input.now })
			.where(eq(participants.id, found.id))
			.returning();
		return { ok: true, participant: participant ?? found, token: candidate, created: false, study };
	}

	if (study.status === 'paused') return { ok: false, reason: 'paused' };
	if (study.status === 'closed') return { ok: false, reason: 'closed' };

	const token = generateParticipantToken();
	const prolificId = params.external.find((id) => id.name === 'PROLIFIC_PID')?.value;
	const participant = await db.transaction(async (tx) => {
		if (prolificId !== undefined) {
			await tx.execute(
				sql`select pg_advisory_xact_lock(${PROLIFIC_LOCK_SPACE}::int4, hashtext(${`${study.studyId}:${prolificId}`}::text))`
			);
			const [taken] = await tx
				.select({ id: participants.id })
				.from(participantExternalIds)
				.innerJoin(participants, eq(participants.id, participantExternalIds.participantId))
				.where(
					and(
						eq(participants.studyId, study.studyId),
						eq(participantExternalIds.source, 'prolific'),
						eq(participantExternalIds.name, 'PROLIFIC_PID'),
						eq(participantExternalIds.value, prolificId)
					)
				)
				.limit(1);
			if (taken) return null;
		}
		const [row] = await tx
			.insert(participants)
			.values({
				id: `p-${generateSecureRandomString().slice(0, 16)}`,
				studyId: study.studyId,
				version: study.version,
				tokenHash: hashSecret(token),
				status: 'consenting',
				isBot: input.isBot ?? false,
				createdAt: input.now,
				lastSeenAt: input.now,
				linkParams: params.other
			})
			.returning();
		if (!row) throw new Error('participant insert returned no row');
		if (params.external.length > 0) {
			await tx
				.insert(participantExternalIds)
				.values(params.external.map((id) => ({ participantId: row.id, ...id })));
		}
		return row;
	});
	if (!participant) return { ok: false, reason: 'already_started' };
	return { ok: true, participant, token, created: true, study };
}
