/**
 * Studies on the server: who may see and change them, drafts with optimistic revisions,
 * publishing immutable versions, status, sharing, the change log, import and export.
 */
export * from './types';
export { canCreateStudies, canEditStudy, canManageStudy, type StudyForUser } from './access';
export { listStudies, getStudyDetail } from './queries';
export { getStudyLink } from './links';
export { createStudy, duplicateStudy } from './creation';
export { saveDraft, saveDraftAndCheck, type SaveDraftResult } from './drafts';
export { getValidationContext, validateDraft, listPublishIssues } from './validation';
export { publishStudy, type PublishResult } from './publishing';
export {
	setStudyStatus,
	setStudyArchived,
	type StatusAction,
	type SetStatusResult
} from './lifecycle';
export {
	shareStudy,
	unshareStudy,
	listStudyMembers,
	type ShareResult,
	type StudyMembersResult
} from './sharing';
export { exportStudy, importStudy, exportFilename } from './transfer';
export {
	CreateStudyBody,
	SaveDraftBody,
	ShareStudyBody,
	ImportStudyBody,
	parseExportVersion,
	STUDY_BODY_LIMIT_BYTES
} from './schemas';
export { respondStudyFailure, respondNotPublishable } from './responses';
