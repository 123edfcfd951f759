import { and, desc, eq, lt } from 'drizzle-orm';
import type { SessionUser } from '../auth/sessions';
import type { Executor } from '../db';
import { auditEvents } from '../db/schema';
import { loadStudyForUser } from '../studies/access';

/** One entry as the audit page and API show it. */
export type AuditListing = {
	id: number;
	at: Date;
	/** Null when the account has since been deleted; the email stays. */
	userId: string | null;
	userEmail: string;
	action: string;
	detail: Record<string, unknown>;
};

export type AuditPage = { events: AuditListing[]; next: number | null };

/**
 * A study's audit entries, newest first, `limit` at a time. Keyset on the id (ids only grow),
 * so a page never repeats or skips an entry while new ones are added; `next` is the `before`
 * of the following page, null on the last.
 */
export async function listAuditEvents(
	db: Executor,
	studyId: string,
	page: { before?: number; limit: number }
): Promise<AuditPage> {
	const rows = await db
		.select({
			id: auditEvents.id,
			at: auditEvents.at,
			userId: auditEvents.userId,
			userEmail: auditEvents.userEmail,
			action: auditEvents.action,
			detail: auditEvents.detail
		})
		.from(auditEvents)
		.where(
			and(
				eq(auditEvents.studyId, studyId),
				page.before === undefined ? undefined : lt(auditEvents.id, page.before)
			)
		)
		.orderBy(desc(auditEvents.id))
		.limit(page.limit + 1);
	const events = rows.slice(0, page.limit);
	return { events, next: rows.length > page.limit ? events[events.length - 1]!.id : null };
}

export type StudyAuditResult = ({ ok: true } & AuditPage) | { ok: false; reason: 'not_found' };

/**
 * The audit log of a study for anyone who can see the study: it is accountability (who reached
 * which data, when), not the data itself. Reading it is not itself audited.
 */
export async function readStudyAudit(
	db: Executor,
	user: SessionUser,
	studyId: string,
	page: { before?: number; limit: number }
): Promise<StudyAuditResult> {
	const found = await loadStudyForUser(db, user, studyId);
	if (!found) return { ok: false, reason: 'not_found' };
	return { ok: true, ...(await listAuditEvents(db, studyId, page)) };
}
