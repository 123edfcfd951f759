import type { Executor } from '../db';
import { auditEvents } from '../db/schema';

/** One access to research data, as the audit log keeps it. */
export type AuditEntry = {
	user: { id: string; email: string };
	studyId: string | null;
	/** e.g. `data.export`, `participant.export`, `participant.erase`, `room.replay`. */
	action: string;
	/** What exactly was reached (dataset, format, filters, ids, row count); never the data. */
	detail?: Record<string, unknown>;
};

/**
 * Appends an entry to the audit log. Call it before the data leaves (an export that fails
 * half-way was still an access); pass the transaction when the access is part of one.
 */
export async function recordAudit(db: Executor, entry: AuditEntry): Promise<void> {
	await db.insert(auditEvents).values({
		at: new Date(),
		userId: entry.user.id,
		userEmail: entry.user.email,
		studyId: entry.studyId,
		action: entry.action,
		detail: entry.detail ?? {}
	});
}
