/** The participant side: the study link, identity by token, the participant cookie. */
export { enterStudy, findParticipantByToken, viewStudyEntry } from './identity';
export type { EnterStudyInput, EnterStudyResult } from './identity';
export {
	participantCookieName,
	participantCookieOptions,
	setParticipantCookie,
	readParticipantCookie,
	deleteParticipantCookie
} from './cookies';
export { findPublicStudy, findStudyEntry, type PublicStudy, type StudyEntry } from './study-link';
