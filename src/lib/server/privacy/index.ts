/**
 * Privacy: a study's participants for the dashboard (external ids only with the data
 * permission), one participant's data as a JSON document (GDPR access) and their erasure
 * (GDPR erasure). Every reach into personal data is written to the audit log.
 */
export {
	findParticipants,
	type ParticipantListing,
	type ParticipantPage,
	type ParticipantSearch,
	type ExternalId
} from './find';
export { listStudyParticipants, type ParticipantListResult } from './list';
export {
	exportParticipantData,
	countParticipantData,
	PARTICIPANT_EXPORT_FORMAT,
	type ParticipantDataCounts,
	type ParticipantExportResult
} from './export';
export { eraseParticipant, type EraseResult, type ErasureCounts } from './erase';
export { REDACTIONS, redactPayload } from './redact';
export { ParticipantId, ParticipantListQuery, EraseForm } from './schemas';
export { respondPrivacyFailure, PRIVACY_MESSAGES, type PrivacyFailure } from './responses';
