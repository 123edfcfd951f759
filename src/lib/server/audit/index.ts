/**
 * The audit log: who viewed, exported, erased or was given access to research data, when.
 * Entries are only ever added (record.ts) and read per study (list.ts).
 */
export { recordAudit, type AuditEntry } from './record';
export {
	listAuditEvents,
	readStudyAudit,
	type AuditListing,
	type AuditPage,
	type StudyAuditResult
} from './list';
export { AuditPageQuery } from './schemas';
